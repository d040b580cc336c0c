import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { keyArnOf, type KeyRecord } from "./model";
import { KeyStore } from "./store";

const dirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "custody-dev-kms-store-"));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const material = randomBytes(32).toString("base64");
const key: KeyRecord = {
  keyId: "1234abcd-12ab-34cd-56ef-1234567890ab",
  accountId: "111122223333",
  region: "us-east-1",
  createdAt: 1_700_000_000_000,
  description: "a key",
  state: "Enabled",
  multiRegion: false,
  policy: "{}",
  tags: [{ TagKey: "team", TagValue: "custody" }],
  material,
  keyMaterialId: "f".repeat(64),
};

describe("the encrypted key store", () => {
  it("persists changes, encrypted, with a 0600 master key file it creates", () => {
    const dir = dataDir();
    const store = KeyStore.open(dir, undefined);
    store.mutate((draft) => draft.keys.set(keyArnOf(key), key));
    store.close();
    expect(statSync(path.join(dir, "master.key")).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir).sort()).toEqual(["master.key", "store.enc"]);
    const onDisk = readFileSync(path.join(dir, "store.enc"));
    for (const secret of [material, key.keyId, key.description]) expect(onDisk.includes(Buffer.from(secret))).toBe(false);

    const reopened = KeyStore.open(dir, undefined);
    expect(reopened.state.keys.get(keyArnOf(key))).toEqual(key);
    reopened.close();
  });

  it("leaves memory unchanged when a change throws", () => {
    const store = KeyStore.open(dataDir(), randomBytes(32));
    expect(() =>
      store.mutate((draft) => {
        draft.keys.set(keyArnOf(key), key);
        throw new Error("refused half-way");
      }),
    ).toThrow("refused half-way");
    expect(store.state.keys.size).toBe(0);
    store.close();
  });

  it("deletes keys whose deletion date has passed, with their aliases and grants", () => {
    const store = KeyStore.open(dataDir(), randomBytes(32));
    const arn = keyArnOf(key);
    store.mutate((draft) => {
      draft.keys.set(arn, { ...key, state: "PendingDeletion", deletionDate: 1000 });
      draft.aliases.set("a", { aliasName: "alias/a", accountId: key.accountId, region: key.region, targetKeyId: key.keyId, createdAt: 0, updatedAt: 0 });
      draft.grants.set("g", { grantId: "g", keyArn: arn, granteePrincipal: "x", operations: [], issuingAccount: "y", createdAt: 0 });
    });
    store.purgeDeletedKeys(999);
    expect(store.state.keys.size).toBe(1);
    store.purgeDeletedKeys(1000);
    expect([store.state.keys.size, store.state.aliases.size, store.state.grants.size]).toEqual([0, 0, 0]);
    store.close();
  });

  it("fails start-up clearly on a wrong master key, a damaged file or a bad key file", () => {
    const dir = dataDir();
    const masterKey = randomBytes(32);
    KeyStore.open(dir, masterKey).close();
    expect(() => KeyStore.open(dir, randomBytes(32))).toThrow(/different master key/);
    expect(() => KeyStore.open(dir, randomBytes(16))).toThrow(/must be 32 bytes/);
    writeFileSync(path.join(dir, "master.key"), "not a key\n", { mode: 0o600 });
    expect(() => KeyStore.open(dir, undefined)).toThrow(/does not hold a base64 32-byte key/);

    const file = path.join(dir, "store.enc");
    const bytes = readFileSync(file);
    writeFileSync(file, Buffer.concat([bytes.subarray(0, 30), Buffer.of(bytes[30]! ^ 1), bytes.subarray(31)]));
    expect(() => KeyStore.open(dir, masterKey)).toThrow(/damaged/);
    writeFileSync(file, "garbage");
    expect(() => KeyStore.open(dir, masterKey)).toThrow(/not a dev KMS store/);
  });

  it("lets one store at a time use a folder, and takes over a lock left by a dead process", () => {
    const dir = dataDir();
    const masterKey = randomBytes(32);
    const first = KeyStore.open(dir, masterKey);
    expect(() => KeyStore.open(dir, masterKey)).toThrow(/already open/);
    first.close();
    expect(readdirSync(dir)).not.toContain("lock");
    writeFileSync(path.join(dir, "lock"), "999999999\n"); // no such process
    const second = KeyStore.open(dir, masterKey);
    expect(readFileSync(path.join(dir, "lock"), "utf8").trim()).toBe(String(process.pid));
    second.close();
  });
});
