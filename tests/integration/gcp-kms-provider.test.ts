import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { makeServiceAccountKey } from "@/lib/dev/gcp-kms/auth";
import { DEV_GCP_VENDOR_EMAIL, devGcpClient } from "@/lib/dev/gcp-kms/defaults";
import { isKmsError } from "@/lib/kms/errors";
import type { KeyRef, KmsClient } from "@/lib/kms/provider";
import { createGcpKms, type GcpKms, type GcpKmsConfig } from "@/lib/kms/providers/gcp/client";
import { createGcpKmsClient } from "@/lib/kms/providers/gcp/kms-client";
import { ENCRYPTER_DECRYPTER, startTestDevGcpKms, VIEWER, type TestDevGcpKms } from "@/tests/helpers/dev-gcp-kms";

// Custody's Cloud KMS client (the provider's KmsClient on @google-cloud/kms over REST, with
// Custody's service-account key) against the development Cloud KMS: IAM enforced per key,
// version states, additional authenticated data binding the tenant, faults retried and mapped.

let dev: TestDevGcpKms;
let kms: KmsClient;
const apis: GcpKms[] = [];
const tenantA = { tenantId: "7d0c4c1e-0000-4000-8000-00000000000a" };
const tenantB = { tenantId: "7d0c4c1e-0000-4000-8000-00000000000b" };
const ref = (name: string): KeyRef => ({ provider: "gcp", ref: name, details: {} });

function client(overrides: Partial<GcpKmsConfig> = {}): KmsClient {
  const api = createGcpKms({ credentials: dev.vendorKey, endpoint: dev.server.endpoint, maxAttempts: 3, requestTimeoutMs: 5_000, initialRetryDelayMs: 10, ...overrides });
  apis.push(api);
  return createGcpKmsClient(api);
}

async function kindOf(promise: Promise<unknown>): Promise<string> {
  const error: unknown = await promise.then(() => undefined, (e: unknown) => e);
  if (!isKmsError(error)) throw new Error(`expected a KmsError, got ${String(error)}`);
  return error.kind;
}

beforeAll(async () => {
  dev = await startTestDevGcpKms();
  kms = client();
});

afterAll(async () => {
  await Promise.all(apis.map((a) => a.close()));
  await dev?.stop();
});

describe("Cloud KMS provider against the development Cloud KMS", () => {
  it("wraps, unwraps and describes with a key whose IAM policy admits Custody; the AAD binds the tenant", async () => {
    const name = await dev.createKey("custody", "round-trip");
    await dev.grantVendor(name, [ENCRYPTER_DECRYPTER, VIEWER]);
    const { plaintext, wrapped } = await kms.generateTenantKey(ref(name), tenantA);
    expect(plaintext).toHaveLength(32);
    expect(wrapped.includes(plaintext)).toBe(false);
    await expect(kms.unwrapTenantKey(ref(name), wrapped, tenantA)).resolves.toEqual(plaintext);
    expect(await kindOf(kms.unwrapTenantKey(ref(name), wrapped, tenantB))).toBe("invalid_ciphertext");
    await expect(kms.describeKey(ref(name))).resolves.toEqual({ summary: "Key is a symmetric encryption key; its primary version (1) is enabled." });
    const rewrapped = await kms.wrapTenantKey!(ref(name), plaintext, tenantB);
    await expect(kms.unwrapTenantKey(ref(name), rewrapped, tenantB)).resolves.toEqual(plaintext);
  });

  it("refuses Custody without a role on the key (PERMISSION_DENIED → access_denied), and with the viewer role only to wrap", async () => {
    const name = await dev.createKey("custody", "no-binding");
    expect(await kindOf(kms.describeKey(ref(name)))).toBe("access_denied");
    expect(await kindOf(kms.generateTenantKey(ref(name), tenantA))).toBe("access_denied");
    await dev.grantVendor(name, [VIEWER]);
    await expect(kms.describeKey(ref(name))).resolves.toMatchObject({ summary: expect.stringContaining("enabled") });
    expect(await kindOf(kms.generateTenantKey(ref(name), tenantA))).toBe("access_denied");
    // A key that does not exist looks the same to a caller without access, as in Cloud KMS.
    expect(await kindOf(kms.describeKey(ref(name.replace("no-binding", "never-made"))))).toBe("access_denied");
  });

  it("maps a disabled primary version to key_disabled and a version scheduled for destruction to invalid_state; restored, it works again", async () => {
    const name = await dev.createKey("custody", "states");
    await dev.grantVendor(name, [ENCRYPTER_DECRYPTER, VIEWER]);
    const { plaintext, wrapped } = await kms.generateTenantKey(ref(name), tenantA);
    const version = `${name}/cryptoKeyVersions/1`;
    await dev.admin.updateCryptoKeyVersion({ cryptoKeyVersion: { name: version, state: "DISABLED" }, updateMask: { paths: ["state"] } });
    expect(await kindOf(kms.describeKey(ref(name)))).toBe("key_disabled");
    expect(await kindOf(kms.generateTenantKey(ref(name), tenantA))).toBe("key_disabled");
    expect(await kindOf(kms.unwrapTenantKey(ref(name), wrapped, tenantA))).toBe("key_disabled");
    await dev.admin.destroyCryptoKeyVersion({ name: version });
    expect(await kindOf(kms.describeKey(ref(name)))).toBe("invalid_state");
    expect(await kindOf(kms.unwrapTenantKey(ref(name), wrapped, tenantA))).toBe("invalid_state");
    await dev.admin.restoreCryptoKeyVersion({ name: version });
    await dev.admin.updateCryptoKeyVersion({ cryptoKeyVersion: { name: version, state: "ENABLED" }, updateMask: { paths: ["state"] } });
    await expect(kms.unwrapTenantKey(ref(name), wrapped, tenantA)).resolves.toEqual(plaintext);
  });

  it("destroys a version 30 days after it is scheduled: its wrapped keys never open again", async () => {
    const name = await dev.createKey("custody", "doomed");
    await dev.grantVendor(name, [ENCRYPTER_DECRYPTER, VIEWER]);
    const { wrapped } = await kms.generateTenantKey(ref(name), tenantA);
    await dev.admin.destroyCryptoKeyVersion({ name: `${name}/cryptoKeyVersions/1` });
    // Only the date moves (the server's clock and the clients' token times alike), timers do not.
    // Clients made in the future: the library caches tokens, and these would outlive the jump back.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 31 * 24 * 3600 * 1000 });
    const admin = devGcpClient(dev.server.endpoint, dev.adminKey);
    try {
      const [versions] = await admin.listCryptoKeyVersions({ parent: name });
      expect(versions.map((v) => v.state)).toEqual(["DESTROYED"]);
      expect(await kindOf(client().unwrapTenantKey(ref(name), wrapped, tenantA))).toBe("invalid_state");
    } finally {
      vi.useRealTimers();
      await admin.close();
    }
  });

  it("unwraps with the version that wrapped after the primary moves on", async () => {
    const name = await dev.createKey("custody", "rotated");
    await dev.grantVendor(name, [ENCRYPTER_DECRYPTER, VIEWER]);
    const before = await kms.generateTenantKey(ref(name), tenantA);
    const [version] = await dev.admin.createCryptoKeyVersion({ parent: name, cryptoKeyVersion: {} });
    await dev.admin.updateCryptoKeyPrimaryVersion({ name, cryptoKeyVersionId: version.name!.split("/").pop()! });
    await expect(kms.describeKey(ref(name))).resolves.toEqual({ summary: "Key is a symmetric encryption key; its primary version (2) is enabled." });
    await expect(kms.unwrapTenantKey(ref(name), before.wrapped, tenantA)).resolves.toEqual(before.plaintext);
  });

  it("recognises a wrapped key of another key (incorrect_key)", async () => {
    const one = await dev.createKey("custody", "wrong-one");
    const two = await dev.createKey("custody", "wrong-two");
    await dev.grantVendor(one, [ENCRYPTER_DECRYPTER]);
    await dev.grantVendor(two, [ENCRYPTER_DECRYPTER]);
    const { wrapped } = await kms.generateTenantKey(ref(one), tenantA);
    expect(await kindOf(kms.unwrapTenantKey(ref(two), wrapped, tenantA))).toBe("incorrect_key");
  });

  it("refuses a service-account key the server does not know (credentials), and malformed key names before any call", async () => {
    const stranger = makeServiceAccountKey(DEV_GCP_VENDOR_EMAIL, "custody-vendor").file;
    const name = await dev.createKey("custody", "creds");
    await dev.grantVendor(name, [ENCRYPTER_DECRYPTER, VIEWER]);
    expect(await kindOf(client({ credentials: stranger }).describeKey(ref(name)))).toBe("credentials");
    const before = dev.server.calls();
    expect(await kindOf(kms.describeKey(ref("projects/acme/keyRings/r/cryptoKeys/k")))).toBe("invalid_request");
    expect(await kindOf(kms.generateTenantKey(ref(`${name}/cryptoKeyVersions/1`), tenantA))).toBe("invalid_request");
    expect(dev.server.calls()).toEqual(before);
  });

  it("retries throttling (429) and unavailability (503) with backoff, and maps them once attempts run out", async () => {
    const name = await dev.createKey("custody", "faults");
    await dev.grantVendor(name, [ENCRYPTER_DECRYPTER, VIEWER]);
    const count = () => dev.server.calls().Encrypt ?? 0;
    let start = count();
    dev.server.faults.throttleNext(2);
    await expect(kms.generateTenantKey(ref(name), tenantA)).resolves.toMatchObject({ plaintext: expect.any(Buffer) });
    expect(count() - start).toBe(3);
    start = count();
    dev.server.faults.unavailableNext(1);
    await expect(kms.generateTenantKey(ref(name), tenantA)).resolves.toMatchObject({ plaintext: expect.any(Buffer) });
    expect(count() - start).toBe(2);
    start = count();
    dev.server.faults.throttleNext(3);
    expect(await kindOf(kms.generateTenantKey(ref(name), tenantA))).toBe("throttled");
    expect(count() - start).toBe(3);
    dev.server.faults.unavailableNext(3);
    expect(await kindOf(kms.generateTenantKey(ref(name), tenantA))).toBe("unreachable");
  });

  it("gives up on a Cloud KMS that does not answer within the deadline (unreachable)", async () => {
    const name = await dev.createKey("custody", "slow");
    await dev.grantVendor(name, [ENCRYPTER_DECRYPTER]);
    dev.server.faults.delayNext(60_000, 2);
    expect(await kindOf(client({ requestTimeoutMs: 300, maxAttempts: 2 }).generateTenantKey(ref(name), tenantA))).toBe("unreachable");
    dev.server.faults.reset();
  });
});
