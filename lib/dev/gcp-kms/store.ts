import { GoogleApiError, invalidArgument, notFound, wrongState } from "./errors";
import { authorize, parseBindings, type Caller, type Permission } from "./iam";
import type { Resources } from "./persist";
import { newCryptoKey, newEtag, newVersion, versionName, type CryptoKey, type CryptoKeyVersion, type IamPolicy, type KeyRing, type VersionState } from "./model";

// The development Cloud KMS's resources and the rules on them: who may do what (iam.ts),
// which version states allow which use, scheduled destruction. Every method takes the caller
// and authorises before it reveals whether the resource exists, as Cloud KMS does.

/** Cloud KMS's default: a version scheduled for destruction is destroyed 30 days later. */
const DESTROY_DELAY_MS = 30 * 24 * 3600 * 1000;

const STATE_NUMBERS: Record<number, VersionState> = { 1: "ENABLED", 2: "DISABLED", 3: "DESTROYED", 4: "DESTROY_SCHEDULED" };

/** An enum value as the REST transport sends it: its name, or its number (enum-encoding=int). */
export function versionStateOf(value: unknown): VersionState | undefined {
  if (typeof value === "number") return STATE_NUMBERS[value];
  return Object.values(STATE_NUMBERS).find((s) => s === value);
}

type Located = { key: CryptoKey; version: CryptoKeyVersion };

export class GcpKeyStore {
  private readonly keyRings: Map<string, KeyRing>;
  private readonly keys: Map<string, CryptoKey>;

  constructor(
    private readonly clock: () => number,
    resources: Resources = { keyRings: new Map(), keys: new Map() },
  ) {
    this.keyRings = resources.keyRings;
    this.keys = resources.keys;
  }

  resources(): Resources {
    return { keyRings: this.keyRings, keys: this.keys };
  }

  private now(): Date {
    return new Date(this.clock());
  }

  /** Destroys versions whose scheduled destruction time has come. */
  private settle(key: CryptoKey): void {
    const now = this.clock();
    for (const version of key.versions.values()) {
      if (version.state === "DESTROY_SCHEDULED" && version.destroyTime && version.destroyTime.getTime() <= now) {
        version.state = "DESTROYED";
        version.material = null;
      }
    }
  }

  /** The key after checking `permission`; NOT_FOUND only for a caller allowed to know. */
  key(caller: Caller, name: string, permission: Permission): CryptoKey {
    const key = this.keys.get(name);
    authorize(caller, permission, name, key);
    if (!key) throw notFound(name);
    this.settle(key);
    return key;
  }

  version(caller: Caller, keyName: string, id: number, permission: Permission): Located {
    const key = this.key(caller, keyName, permission);
    const version = key.versions.get(id);
    if (!version) throw notFound(versionName(key, id));
    return { key, version };
  }

  createKeyRing(caller: Caller, parent: string, id: string): KeyRing {
    authorize(caller, "cloudkms.keyRings.create", parent, undefined);
    const name = `${parent}/keyRings/${id}`;
    if (this.keyRings.has(name)) throw new GoogleApiError("ALREADY_EXISTS", `KeyRing ${name} already exists.`);
    const ring = { name, createTime: this.now() };
    this.keyRings.set(name, ring);
    return ring;
  }

  createCryptoKey(caller: Caller, keyRing: string, id: string): CryptoKey {
    authorize(caller, "cloudkms.cryptoKeys.create", keyRing, undefined);
    if (!this.keyRings.has(keyRing)) throw notFound(keyRing);
    const name = `${keyRing}/cryptoKeys/${id}`;
    if (this.keys.has(name)) throw new GoogleApiError("ALREADY_EXISTS", `CryptoKey ${name} already exists.`);
    const key = newCryptoKey(name, this.now());
    this.keys.set(name, key);
    return key;
  }

  createVersion(caller: Caller, keyName: string): Located {
    const key = this.key(caller, keyName, "cloudkms.cryptoKeyVersions.create");
    return { key, version: newVersion(key, this.now()) };
  }

  updatePrimary(caller: Caller, keyName: string, id: number): CryptoKey {
    const { key, version } = this.version(caller, keyName, id, "cloudkms.cryptoKeys.update");
    if (version.state !== "ENABLED") throw wrongState(versionName(key, id), version.state);
    key.primary = id;
    return key;
  }

  /** ENABLED ⇄ DISABLED, the only state changes UpdateCryptoKeyVersion makes. */
  setState(caller: Caller, keyName: string, id: number, state: VersionState | undefined): Located {
    const { key, version } = this.version(caller, keyName, id, "cloudkms.cryptoKeyVersions.update");
    if (state !== "ENABLED" && state !== "DISABLED") throw invalidArgument("crypto_key_version.state must be ENABLED or DISABLED.");
    if (version.state !== "ENABLED" && version.state !== "DISABLED") throw wrongState(versionName(key, id), version.state);
    version.state = state;
    return { key, version };
  }

  destroy(caller: Caller, keyName: string, id: number): Located {
    const { key, version } = this.version(caller, keyName, id, "cloudkms.cryptoKeyVersions.destroy");
    if (version.state !== "ENABLED" && version.state !== "DISABLED") throw wrongState(versionName(key, id), version.state);
    version.state = "DESTROY_SCHEDULED";
    version.destroyTime = new Date(this.clock() + DESTROY_DELAY_MS);
    return { key, version };
  }

  restore(caller: Caller, keyName: string, id: number): Located {
    const { key, version } = this.version(caller, keyName, id, "cloudkms.cryptoKeyVersions.restore");
    if (version.state !== "DESTROY_SCHEDULED") throw wrongState(versionName(key, id), version.state);
    version.state = "DISABLED";
    version.destroyTime = null;
    return { key, version };
  }

  getPolicy(caller: Caller, keyName: string): IamPolicy {
    return this.key(caller, keyName, "cloudkms.cryptoKeys.getIamPolicy").policy;
  }

  /** Replaces the key's policy; a stale etag is refused (ABORTED), as IAM does for concurrent edits. */
  setPolicy(caller: Caller, keyName: string, policy: { bindings?: unknown; etag?: unknown }): IamPolicy {
    const key = this.key(caller, keyName, "cloudkms.cryptoKeys.setIamPolicy");
    if (policy.etag !== undefined && policy.etag !== "" && policy.etag !== key.policy.etag) {
      throw new GoogleApiError("ABORTED", "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.");
    }
    key.policy = { version: 1, bindings: parseBindings(policy.bindings), etag: newEtag() };
    return key.policy;
  }
}
