import { request } from "node:https";
import { ClientSecretCredential } from "@azure/identity";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_AZURE_CUSTODY_APP, DEV_AZURE_CUSTOMER_TENANT, DEV_AZURE_VENDOR_TENANT } from "@/lib/dev/azure-kv/defaults";
import { isKmsError } from "@/lib/kms/errors";
import type { KeyRef } from "@/lib/kms/provider";
import { azureKmsProvider } from "@/lib/kms/providers/azure";
import type { AzureKmsClient } from "@/lib/kms/providers/azure/client";
import { createAzureAgent } from "@/lib/kms/providers/azure/http";
import { startTestDevAzureKv, type TestDevAzureKv } from "../helpers/dev-azure-kv";

// The development Key Vault's own rules, seen from outside: the bearer challenge a client meets
// first, tokens checked for signature, audience and the vault's tenant, and key attributes
// enforced by the server itself (not only by Custody's client, which checks them first): its
// clock is moved so the server judges a key the client still thinks usable.

const APP = DEV_AZURE_CUSTODY_APP.clientId;
const VAULT = { kind: "vault" as const, name: "rules-keys" };
const DAY = 86_400_000;
let skew = 0;
let server: TestDevAzureKv;
let client: AzureKmsClient;
let agent: ReturnType<typeof createAzureAgent>;

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; body: { error?: { code?: string; message?: string; innererror?: { code?: string } } } };

function call(url: string, options: { method?: string; token?: string; body?: object } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = options.body ? JSON.stringify(options.body) : undefined;
    const req = request(
      url,
      {
        method: options.method ?? "GET",
        agent,
        headers: { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...(body ? { "content-type": "application/json" } : {}) },
      },
      (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : {} }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function token(tenant: string, resource: string): Promise<string> {
  const credential = new ClientSecretCredential(tenant, APP, DEV_AZURE_CUSTODY_APP.secret, {
    authorityHost: server.kv.authorityHost,
    disableInstanceDiscovery: true,
    agent,
  });
  return (await credential.getToken(`${resource}/.default`)).token;
}

function keyRef(url: string): KeyRef {
  return { provider: "azure", ...azureKmsProvider.registration.schema(server.config()).parse({ keyUrl: url }) };
}

beforeAll(async () => {
  server = await startTestDevAzureKv({ clock: () => Date.now() + skew });
  agent = createAzureAgent(server.kv.caPath);
  server.kv.createVault({ ...VAULT, tenantId: DEV_AZURE_CUSTOMER_TENANT });
  server.kv.setServicePrincipal(DEV_AZURE_CUSTOMER_TENANT, APP, true);
  server.kv.assignRole(VAULT, { principal: APP, role: "Key Vault Crypto Service Encryption User", scope: "/" });
  client = azureKmsProvider.createClient(server.config()) as AzureKmsClient;
});

afterAll(async () => {
  client?.close();
  agent?.destroy();
  await server?.stop();
});

describe("authentication", () => {
  it("answers a request without a token with Key Vault's challenge: the vault's tenant and resource", async () => {
    const kid = server.kv.createKey(VAULT, "challenge", "RSA");
    const answer = await call(`${kid}?api-version=7.6`);
    expect(answer.status).toBe(401);
    expect(answer.headers["www-authenticate"]).toBe(`Bearer authorization="${server.kv.authorityHost}/${DEV_AZURE_CUSTOMER_TENANT}", resource="https://vault.localhost"`);
    expect(answer.body.error?.code).toBe("Unauthorized");
  });

  it("accepts a token for the vault's tenant and resource, and refuses one from another tenant, for another resource, or forged", async () => {
    const kid = server.kv.createKey(VAULT, "tokens", "RSA");
    const url = `${kid}?api-version=7.6`;
    expect((await call(url, { token: await token(DEV_AZURE_CUSTOMER_TENANT, "https://vault.localhost") })).status).toBe(200);
    const otherTenant = await call(url, { token: await token(DEV_AZURE_VENDOR_TENANT, "https://vault.localhost") });
    expect(otherTenant.status).toBe(401);
    expect(otherTenant.body.error?.message).toMatch(/another tenant/);
    const otherResource = await call(url, { token: await token(DEV_AZURE_CUSTOMER_TENANT, "https://managedhsm.localhost") });
    expect(otherResource.status).toBe(401);
    const good = await token(DEV_AZURE_CUSTOMER_TENANT, "https://vault.localhost");
    const [head, body] = good.split(".");
    const claims = JSON.parse(Buffer.from(body!, "base64url").toString()) as Record<string, unknown>;
    const forged = `${head}.${Buffer.from(JSON.stringify({ ...claims, appid: "00000000-0000-4000-8000-000000000000" })).toString("base64url")}.${good.split(".")[2]}`;
    expect((await call(url, { token: forged })).status).toBe(401);
  });

  it("gives no token to an app that has no service principal in the tenant", async () => {
    const tenant = "7d1e0000-0000-4000-8000-0000000000bb";
    server.kv.createVault({ kind: "vault", name: "no-consent", tenantId: tenant });
    await expect(token(tenant, "https://vault.localhost")).rejects.toThrow(/AADSTS700016/);
  });
});

describe("key attributes enforced by the server", () => {
  it("refuses unwrapKey on a disabled key with Azure's 403 KeyDisabled (wrapKey, as in Azure, still works)", async () => {
    const kid = server.kv.createKey(VAULT, "server-disabled", "RSA");
    const auth = await token(DEV_AZURE_CUSTOMER_TENANT, "https://vault.localhost");
    const wrapped = await call(`${kid}/wrapkey?api-version=7.6`, { method: "POST", token: auth, body: { alg: "RSA-OAEP-256", value: Buffer.alloc(32, 7).toString("base64url") } });
    expect(wrapped.status).toBe(200);
    server.kv.updateKey(VAULT, "server-disabled", undefined, { enabled: false });
    const value = (wrapped.body as { value?: string }).value;
    const refused = await call(`${kid}/unwrapkey?api-version=7.6`, { method: "POST", token: auth, body: { alg: "RSA-OAEP-256", value } });
    expect(refused).toMatchObject({ status: 403, body: { error: { code: "Forbidden", innererror: { code: "KeyDisabled" } } } });
  });

  it("refuses a key its clock finds expired, or not yet valid, though the client's clock does not: mapped to invalid_state", async () => {
    const now = Math.floor(Date.now() / 1000);
    const expiring = keyRef(server.kv.createKey(VAULT, "expires-tomorrow", "RSA", { exp: now + 86_400 }));
    const starting = keyRef(server.kv.createKey(VAULT, "valid-since-yesterday", "RSA", { nbf: now - 86_400 }));
    skew = 2 * DAY;
    const expired = await client.generateTenantKey(expiring, { tenantId: "t" }).catch((e: unknown) => e);
    skew = -2 * DAY;
    const early = await client.generateTenantKey(starting, { tenantId: "t" }).catch((e: unknown) => e);
    skew = 0;
    expect(isKmsError(expired) && [expired.kind, expired.providerCode]).toEqual(["invalid_state", "Azure.KeyExpired"]);
    expect(isKmsError(early) && [early.kind, early.providerCode]).toEqual(["invalid_state", "Azure.KeyNotYetValid"]);
    expect(await client.generateTenantKey(expiring, { tenantId: "t" })).toMatchObject({ plaintext: expect.any(Buffer) });
  });
});
