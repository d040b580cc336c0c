import path from "node:path";
import { DEMO_PASSWORD, DEMO_USERS, loadUsersFile } from "@/lib/dev/idp/users";
import type { DemoMode } from "@/lib/server/demo-mode";

// Demo mode's parts, composed into `npm start` by the start scripts. Each part loads its module
// on first use, so a production start never loads the development servers or the seed.

/** An address Custody knows: invited to a tenant (or a vendor admin). */
async function isInvitedToCustody(email: string): Promise<boolean> {
  const { getDb } = await import("@/lib/db");
  return (await getDb().user.count({ where: { email: email.toLowerCase() } })) > 0;
}

/** Fabrikam's key in the development Azure Key Vault, once it runs. */
let azureKeyUrl: string | undefined;

export const demoMode: DemoMode = {
  password: DEMO_PASSWORD,
  async startIdp({ port, issuer, publicUrl, host, usersFile }) {
    const { startDevIdp } = await import("@/lib/dev/idp/server");
    return startDevIdp({
      port,
      issuer,
      clients: [
        {
          clientId: "custody",
          clientSecret: "custody-dev-secret",
          redirectUris: [`${publicUrl}/api/auth/callback/oidc`],
          postLogoutRedirectUris: [`${publicUrl}/signin`],
        },
      ],
      users: [...DEMO_USERS, ...(usersFile ? loadUsersFile(usersFile) : [])],
      // Whoever Custody has invited signs in with the demo password: the vendor's new tenants can be tried.
      admission: { password: DEMO_PASSWORD, isInvited: isInvitedToCustody },
      host,
    });
  },
  async startKms({ config, dataDir }) {
    // AWS: the development KMS, reached by the AWS SDK as the vendor principal.
    const { startDevKms } = await import("@/lib/dev/kms/server");
    // It speaks STS too: Custody runs on the vendor's role, assumed from the vendor's base keys, as production runs on a role.
    const { DEV_KMS_ACCOUNT_ID, DEV_KMS_PRINCIPALS, DEV_KMS_ROLES, DEV_KMS_VENDOR, DEV_KMS_VENDOR_RUNNER } = await import("@/lib/dev/kms/defaults");
    const aws = await startDevKms({
      port: config.DEV_KMS_PORT,
      dataDir: path.join(dataDir, "dev-kms"),
      accountId: DEV_KMS_ACCOUNT_ID,
      principals: DEV_KMS_PRINCIPALS,
      roles: DEV_KMS_ROLES,
    });
    const settings = {
      KMS_ENDPOINT: aws.endpoint,
      KMS_STS_ENDPOINT: aws.endpoint,
      KMS_ACCESS_KEY_ID: DEV_KMS_VENDOR_RUNNER.accessKeyId,
      KMS_SECRET_ACCESS_KEY: DEV_KMS_VENDOR_RUNNER.secretAccessKey,
      KMS_ROLE_ARN: DEV_KMS_VENDOR.arn,
      KMS_ROLE_EXTERNAL_ID: DEV_KMS_VENDOR.externalId,
      KMS_ROLE_SESSION_NAME: DEV_KMS_VENDOR.sessionName,
      KMS_VENDOR_PRINCIPAL_ARN: DEV_KMS_VENDOR.arn,
    };
    // The other KMSs' development servers; a failure closes those already started.
    const closers: Array<() => Promise<unknown>> = [() => aws.close()];
    const close = () => Promise.all(closers.map((closeOne) => closeOne())).then(() => undefined);
    try {
      // HashiCorp Vault / OpenBao: the development Vault over HTTPS with its own CA, Initech's key and AppRole.
      const demoVault = await (await import("./demo-vault")).startDemoVault(path.join(dataDir, "dev-vault"), config.DEV_VAULT_PORT);
      closers.push(() => demoVault.vault.close());
      // Azure: the development Key Vault (HTTPS, its own CA), reached by @azure/identity and @azure/keyvault-keys.
      const azure = await (await import("./demo-azure")).startDemoAzure(config, dataDir);
      closers.push(() => azure.kv.close());
      azureKeyUrl = azure.keyUrl;
      // Google Cloud: the development Cloud KMS, reached by @google-cloud/kms with Custody's key file.
      const gcp = await (await import("./gcp-demo")).startGcpDemoKms(dataDir);
      closers.push(() => gcp.close());
      return { settings: { ...settings, VAULT_SERVERS: demoVault.servers, ...azure.settings, ...gcp.settings }, close };
    } catch (error) {
      await close();
      throw error;
    }
  },
  async seed() {
    const { seedDemo, DEMO_EMAILS } = await import("./seed");
    const seeded = await seedDemo();
    await (await import("./demo-vault")).seedVaultTenant(DEMO_EMAILS.vendorAdmin);
    await (await import("./demo-azure")).seedAzureTenant(DEMO_EMAILS.vendorAdmin, { sourceIp: null, userAgent: "custody demo seed", requestId: "demo-seed" });
    return seeded;
  },
  async tenantKeys(config) {
    const lines: string[] = [];
    if (config.KMS_ENDPOINT && config.KMS_VENDOR_PRINCIPAL_ARN) {
      const arn = await (await import("./seed")).demoTenantKey(config.KMS_ENDPOINT, config.KMS_VENDOR_PRINCIPAL_ARN);
      if (arn) {
        lines.push("Acme's own key in the development AWS KMS (its policy already lets Custody in):", `  ${arn}`);
        lines.push("Sign in as admin@acme.example, open Keys, choose AWS KMS, register it and verify.");
      }
    }
    const gcpKey = await (await import("./gcp-demo")).gcpDemoTenantKey(config);
    if (gcpKey) {
      lines.push("Hooli's own key in the development Cloud KMS (its IAM policy already binds Custody's service account):", `  ${gcpKey}`);
      lines.push("Sign in as admin@hooli.example, open Keys, choose Google Cloud KMS, register it and verify.");
    }
    lines.push(...(await (await import("./demo-vault")).vaultTenantKeyLines(config.VAULT_SERVERS)));
    if (azureKeyUrl && config.KMS_AZURE_CLIENT_ID) {
      lines.push("Fabrikam's own key in the development Azure Key Vault (Custody's app already has its role on it):", `  ${azureKeyUrl}`);
      lines.push("Sign in as admin@fabrikam.example, open Keys, choose Azure Key Vault, register it and verify.");
    }
    return lines;
  },
  async serviceToken(dataDir) {
    return (await import("./demo-credential")).demoServiceToken(dataDir);
  },
};
