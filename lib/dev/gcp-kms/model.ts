import { randomBytes } from "node:crypto";

// What the development Cloud KMS keeps: key rings, crypto keys (symmetric ENCRYPT_DECRYPT
// only, the purpose Custody uses), their versions with Cloud KMS's states and a primary, and
// one IAM policy per crypto key. Resource names are Cloud KMS's own.

export type VersionState = "ENABLED" | "DISABLED" | "DESTROY_SCHEDULED" | "DESTROYED";

export type CryptoKeyVersion = {
  id: number;
  state: VersionState;
  /** 32 bytes of AES-256 key material; erased when the version is destroyed. */
  material: Buffer | null;
  createTime: Date;
  destroyTime: Date | null;
};

export type IamBinding = { role: string; members: string[] };
export type IamPolicy = { version: number; bindings: IamBinding[]; etag: string };

export type CryptoKey = {
  name: string;
  /** Random, per key: a ciphertext names the key that made it, so another key's ciphertext is recognised. */
  tag: Buffer;
  createTime: Date;
  primary: number | null;
  versions: Map<number, CryptoKeyVersion>;
  nextVersion: number;
  policy: IamPolicy;
};

export type KeyRing = { name: string; createTime: Date };

export const newEtag = () => randomBytes(8).toString("base64");

export function newVersion(key: CryptoKey, now: Date): CryptoKeyVersion {
  const version: CryptoKeyVersion = { id: key.nextVersion++, state: "ENABLED", material: randomBytes(32), createTime: now, destroyTime: null };
  key.versions.set(version.id, version);
  return version;
}

export function newCryptoKey(name: string, now: Date): CryptoKey {
  const key: CryptoKey = {
    name,
    tag: randomBytes(8),
    createTime: now,
    primary: null,
    versions: new Map(),
    nextVersion: 1,
    policy: { version: 1, bindings: [], etag: newEtag() },
  };
  key.primary = newVersion(key, now).id;
  return key;
}

export const versionName = (key: CryptoKey, id: number) => `${key.name}/cryptoKeyVersions/${id}`;
