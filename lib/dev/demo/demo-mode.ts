import { DEMO_PASSWORD, DEMO_USERS, loadUsersFile } from "@/lib/dev/idp/users";
import type { DemoMode } from "@/lib/server/demo-mode";

// Demo mode's parts, composed into `npm start` by the start scripts. Each part loads its module
// on first use, so a production start never loads the development servers or the seed.

/** An address Custody knows: invited to a tenant (or a vendor admin). */
async function isInvitedToCustody(email: string): Promise<boolean> {
  const { getDb } = await import("@/lib/db");
  return (await getDb().user.count({ where: { email: email.toLowerCase() } })) > 0;
}

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
  async startKms({ port, dataDir }) {
    const { startDevKms } = await import("@/lib/dev/kms/server");
    const { DEV_KMS_ACCOUNT_ID, DEV_KMS_PRINCIPALS, DEV_KMS_ROLES, DEV_KMS_VENDOR, DEV_KMS_VENDOR_RUNNER } = await import("@/lib/dev/kms/defaults");
    const kms = await startDevKms({ port, dataDir, accountId: DEV_KMS_ACCOUNT_ID, principals: DEV_KMS_PRINCIPALS, roles: DEV_KMS_ROLES });
    const { accessKeyId, secretAccessKey } = DEV_KMS_VENDOR_RUNNER;
    const { arn: roleArn, externalId, sessionName } = DEV_KMS_VENDOR;
    return { endpoint: kms.endpoint, vendor: { accessKeyId, secretAccessKey, roleArn, externalId, sessionName }, close: kms.close };
  },
  async seed() {
    return (await import("./seed")).seedDemo();
  },
  async tenantKey(kmsEndpoint, vendorPrincipalArn) {
    return (await import("./seed")).demoTenantKey(kmsEndpoint, vendorPrincipalArn);
  },
  async serviceToken(dataDir) {
    return (await import("./demo-credential")).demoServiceToken(dataDir);
  },
};
