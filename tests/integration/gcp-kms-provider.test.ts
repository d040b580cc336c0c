import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeServiceAccountKey } from "@/lib/dev/gcp-kms/auth";
import { DEV_GCP_VENDOR_EMAIL } from "@/lib/dev/gcp-kms/defaults";
import { isKmsError } from "@/lib/kms/errors";
import { createGcpKms, type GcpKms, type GcpKmsConfig } from "@/lib/kms/providers/gcp/client";
import { ENCRYPTER_DECRYPTER, startTestDevGcpKms, VIEWER, type TestDevGcpKms } from "@/tests/helpers/dev-gcp-kms";

// Custody's Cloud KMS client (@google-cloud/kms over REST, Custody's service-account key)
// against the development Cloud KMS: IAM enforced per key, version states, additional
// authenticated data binding the tenant, faults retried and mapped.

let dev: TestDevGcpKms;
let kms: GcpKms;
const clients: GcpKms[] = [];
const tenantA = { tenant_id: "7d0c4c1e-0000-4000-8000-00000000000a" };
const tenantB = { tenant_id: "7d0c4c1e-0000-4000-8000-00000000000b" };

function client(overrides: Partial<GcpKmsConfig> = {}): GcpKms {
  const made = createGcpKms({ credentials: dev.vendorKey, endpoint: dev.server.endpoint, maxAttempts: 3, requestTimeoutMs: 5_000, initialRetryDelayMs: 10, ...overrides });
  clients.push(made);
  return made;
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
  await Promise.all(clients.map((c) => c.close()));
  await dev?.stop();
});

describe("Cloud KMS provider against the development Cloud KMS", () => {
  it("describes, wraps and unwraps with a key whose IAM policy admits Custody; the AAD binds the tenant", async () => {
    const name = await dev.createKey("custody", "round-trip");
    await dev.grantVendor(name, [ENCRYPTER_DECRYPTER, VIEWER]);
    await expect(kms.describeKey(name)).resolves.toEqual({
      name,
      purpose: "ENCRYPT_DECRYPT",
      primaryVersion: `${name}/cryptoKeyVersions/1`,
      primaryState: "ENABLED",
    });
    const secret = Buffer.from("tenant key material, 32 bytes!!!");
    const wrapped = await kms.encrypt(name, secret, tenantA);
    expect(wrapped.includes(secret)).toBe(false);
    await expect(kms.decrypt(name, wrapped, tenantA)).resolves.toEqual(secret);
    expect(await kindOf(kms.decrypt(name, wrapped, tenantB))).toBe("invalid_ciphertext");
  });

  it("refuses Custody without a role on the key (PERMISSION_DENIED → access_denied), and with the viewer role only to encrypt", async () => {
    const name = await dev.createKey("custody", "no-binding");
    expect(await kindOf(kms.describeKey(name))).toBe("access_denied");
    expect(await kindOf(kms.encrypt(name, Buffer.from("x"), tenantA))).toBe("access_denied");
    await dev.grantVendor(name, [VIEWER]);
    await expect(kms.describeKey(name)).resolves.toMatchObject({ primaryState: "ENABLED" });
    expect(await kindOf(kms.encrypt(name, Buffer.from("x"), tenantA))).toBe("access_denied");
    // A key that does not exist looks the same to a caller without access, as in Cloud KMS.
    expect(await kindOf(kms.describeKey(name.replace("no-binding", "never-made")))).toBe("access_denied");
  });

  it("maps a disabled primary version to key_disabled and a version scheduled for destruction to invalid_state", async () => {
    const name = await dev.createKey("custody", "states");
    await dev.grantVendor(name, [ENCRYPTER_DECRYPTER, VIEWER]);
    const wrapped = await kms.encrypt(name, Buffer.from("k"), tenantA);
    const version = `${name}/cryptoKeyVersions/1`;
    await dev.admin.updateCryptoKeyVersion({ cryptoKeyVersion: { name: version, state: "DISABLED" }, updateMask: { paths: ["state"] } });
    await expect(kms.describeKey(name)).resolves.toMatchObject({ primaryState: "DISABLED" });
    expect(await kindOf(kms.encrypt(name, Buffer.from("k"), tenantA))).toBe("key_disabled");
    expect(await kindOf(kms.decrypt(name, wrapped, tenantA))).toBe("key_disabled");
    await dev.admin.destroyCryptoKeyVersion({ name: version });
    await expect(kms.describeKey(name)).resolves.toMatchObject({ primaryState: "DESTROY_SCHEDULED" });
    expect(await kindOf(kms.decrypt(name, wrapped, tenantA))).toBe("invalid_state");
    await dev.admin.restoreCryptoKeyVersion({ name: version });
    await dev.admin.updateCryptoKeyVersion({ cryptoKeyVersion: { name: version, state: "ENABLED" }, updateMask: { paths: ["state"] } });
    await expect(kms.decrypt(name, wrapped, tenantA)).resolves.toEqual(Buffer.from("k"));
  });

  it("decrypts with the version that encrypted after the primary moves on", async () => {
    const name = await dev.createKey("custody", "rotated");
    await dev.grantVendor(name, [ENCRYPTER_DECRYPTER, VIEWER]);
    const before = await kms.encrypt(name, Buffer.from("old"), tenantA);
    const [version] = await dev.admin.createCryptoKeyVersion({ parent: name, cryptoKeyVersion: {} });
    await dev.admin.updateCryptoKeyPrimaryVersion({ name, cryptoKeyVersionId: version.name!.split("/").pop()! });
    await expect(kms.describeKey(name)).resolves.toMatchObject({ primaryVersion: version.name });
    await expect(kms.decrypt(name, before, tenantA)).resolves.toEqual(Buffer.from("old"));
  });

  it("recognises a wrapped key of another key (incorrect_key)", async () => {
    const one = await dev.createKey("custody", "wrong-one");
    const two = await dev.createKey("custody", "wrong-two");
    await dev.grantVendor(one, [ENCRYPTER_DECRYPTER]);
    await dev.grantVendor(two, [ENCRYPTER_DECRYPTER]);
    const wrapped = await kms.encrypt(one, Buffer.from("k"), tenantA);
    expect(await kindOf(kms.decrypt(two, wrapped, tenantA))).toBe("incorrect_key");
  });

  it("refuses a service-account key the server does not know (credentials), and malformed key names before any call", async () => {
    const stranger = makeServiceAccountKey(DEV_GCP_VENDOR_EMAIL, "custody-vendor").file;
    const name = await dev.createKey("custody", "creds");
    await dev.grantVendor(name, [ENCRYPTER_DECRYPTER, VIEWER]);
    expect(await kindOf(client({ credentials: stranger }).describeKey(name))).toBe("credentials");
    const before = dev.server.calls();
    expect(await kindOf(kms.describeKey("projects/acme/keyRings/r/cryptoKeys/k"))).toBe("invalid_request");
    expect(await kindOf(kms.encrypt(`${name}/cryptoKeyVersions/1`, Buffer.from("k"), tenantA))).toBe("invalid_request");
    expect(dev.server.calls()).toEqual(before);
  });

  it("retries throttling (429) and unavailability (503) with backoff, and maps them once attempts run out", async () => {
    const name = await dev.createKey("custody", "faults");
    await dev.grantVendor(name, [ENCRYPTER_DECRYPTER, VIEWER]);
    const count = () => dev.server.calls().Encrypt ?? 0;
    let start = count();
    dev.server.faults.throttleNext(2);
    await expect(kms.encrypt(name, Buffer.from("k"), tenantA)).resolves.toBeInstanceOf(Buffer);
    expect(count() - start).toBe(3);
    start = count();
    dev.server.faults.unavailableNext(1);
    await expect(kms.encrypt(name, Buffer.from("k"), tenantA)).resolves.toBeInstanceOf(Buffer);
    expect(count() - start).toBe(2);
    start = count();
    dev.server.faults.throttleNext(3);
    expect(await kindOf(kms.encrypt(name, Buffer.from("k"), tenantA))).toBe("throttled");
    expect(count() - start).toBe(3);
    dev.server.faults.unavailableNext(3);
    expect(await kindOf(kms.encrypt(name, Buffer.from("k"), tenantA))).toBe("unreachable");
  });

  it("gives up on a Cloud KMS that does not answer within the deadline (unreachable)", async () => {
    const name = await dev.createKey("custody", "slow");
    await dev.grantVendor(name, [ENCRYPTER_DECRYPTER]);
    dev.server.faults.delayNext(60_000, 2);
    expect(await kindOf(client({ requestTimeoutMs: 300, maxAttempts: 2 }).encrypt(name, Buffer.from("k"), tenantA))).toBe("unreachable");
    dev.server.faults.reset();
  });
});
