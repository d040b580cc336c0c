import { randomBytes } from "node:crypto";
import { closeSync, constants, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { aesGcmOpen, aesGcmSeal, AES_KEY_BYTES, deriveKey, GCM_IV_BYTES, GCM_TAG_BYTES } from "@/lib/dev/kms/crypto";
import { emptyState, type VaultState } from "./model";

// The development Vault's storage: the whole state as one JSON document, AES-256-GCM encrypted
// under a key derived from a master key kept beside it (master.key, 0600), as the development
// KMS keeps its store. A change is applied to a copy, the copy is written (temporary file,
// fsync, rename), and only then replaces the live state, so memory and disk always agree.
//
//   vault.enc:  "CDVAULT1" | IV (12) | ciphertext | tag (16)   (the magic is the AAD)

const STORE_FILE = "vault.enc";
const MASTER_KEY_FILE = "master.key";
const MAGIC = Buffer.from("CDVAULT1", "ascii");

export class VaultStoreError extends Error {
  override name = "VaultStoreError";
}

const keyVersion = z.object({ material: z.base64(), createdAt: z.number() });
const transitKey = z.object({
  name: z.string(),
  type: z.literal("aes256-gcm96"),
  derived: z.boolean(),
  deletionAllowed: z.boolean(),
  latestVersion: z.number().int(),
  minDecryptionVersion: z.number().int(),
  minEncryptionVersion: z.number().int(),
  softDeleted: z.boolean().optional(),
  versions: z.record(z.string(), keyVersion),
});
const namespaceSchema = z.object({
  mounts: z.record(z.string(), z.object({ type: z.literal("transit"), keys: z.record(z.string(), transitKey) })),
  policies: z.record(z.string(), z.string()),
  approle: z.object({
    enabled: z.boolean(),
    roles: z.record(
      z.string(),
      z.object({
        name: z.string(),
        roleId: z.string(),
        tokenPolicies: z.array(z.string()),
        tokenTtl: z.number(),
        secretIdTtl: z.number(),
        secretIds: z.record(z.string(), z.object({ accessor: z.string(), createdAt: z.number(), expiresAt: z.number().nullable() })),
      }),
    ),
  }),
  tokens: z.record(
    z.string(),
    z.object({
      accessor: z.string(),
      policies: z.array(z.string()),
      createdAt: z.number(),
      ttl: z.number(),
      displayName: z.string(),
      path: z.string(),
      meta: z.record(z.string(), z.string()).nullable(),
    }),
  ),
});
const documentSchema = z.object({ namespaces: z.record(z.string(), namespaceSchema) }) satisfies z.ZodType<VaultState>;

export class VaultStore {
  private current: VaultState;

  private constructor(
    private readonly dir: string,
    private readonly key: Buffer,
    state: VaultState,
  ) {
    this.current = state;
  }

  /** Opens (or creates) the store in `dataDir`; throws VaultStoreError with a clear reason. */
  static open(dataDir: string, masterKey?: Buffer): VaultStore {
    const dir = path.resolve(dataDir);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const key = deriveKey(readMasterKey(dir, masterKey), Buffer.alloc(0), "custody-dev-vault/v1/store");
    const file = path.join(dir, STORE_FILE);
    const bytes = readIfExists(file);
    const store = new VaultStore(dir, key, bytes ? decode(bytes, key, file) : emptyState());
    if (!bytes) store.mutate(() => undefined);
    return store;
  }

  get state(): Readonly<VaultState> {
    return this.current;
  }

  mutate<T>(change: (draft: VaultState) => T): T {
    const draft = structuredClone(this.current);
    const result = change(draft);
    const sealed = aesGcmSeal(this.key, Buffer.from(JSON.stringify(draft), "utf8"), MAGIC);
    const target = path.join(this.dir, STORE_FILE);
    const temp = `${target}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      writeNewFile(temp, Buffer.concat([MAGIC, sealed.iv, sealed.ciphertext, sealed.tag]));
      renameSync(temp, target);
    } catch (error) {
      try {
        unlinkSync(temp);
      } catch {
        // Never created, or already renamed.
      }
      throw error;
    }
    this.current = draft;
    return result;
  }
}

function readMasterKey(dir: string, given: Buffer | undefined): Buffer {
  if (given !== undefined) {
    if (given.length !== AES_KEY_BYTES) throw new VaultStoreError(`The dev Vault master key must be ${AES_KEY_BYTES} bytes`);
    return given;
  }
  const file = path.join(dir, MASTER_KEY_FILE);
  const text = readIfExists(file)?.toString("utf8").trim();
  if (text === undefined) {
    if (readIfExists(path.join(dir, STORE_FILE))) throw new VaultStoreError(`The dev Vault store in ${dir} exists but its master key file ${file} is missing`);
    const key = randomBytes(AES_KEY_BYTES);
    writeNewFile(file, Buffer.from(`${key.toString("base64")}\n`));
    return key;
  }
  const key = Buffer.from(text, "base64");
  if (key.length !== AES_KEY_BYTES) throw new VaultStoreError(`The dev Vault master key file ${file} does not hold a base64 ${AES_KEY_BYTES}-byte key`);
  return key;
}

function decode(bytes: Buffer, key: Buffer, file: string): VaultState {
  const damaged = (why: string) => new VaultStoreError(`The dev Vault store ${file} cannot be read (${why}); remove its data folder to start afresh`);
  if (bytes.length < MAGIC.length + GCM_IV_BYTES + GCM_TAG_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw damaged("not a dev Vault store");
  const ivEnd = MAGIC.length + GCM_IV_BYTES;
  const plaintext = aesGcmOpen(
    key,
    { iv: bytes.subarray(MAGIC.length, ivEnd), ciphertext: bytes.subarray(ivEnd, bytes.length - GCM_TAG_BYTES), tag: bytes.subarray(bytes.length - GCM_TAG_BYTES) },
    MAGIC,
  );
  if (!plaintext) throw damaged("it does not authenticate under its master key");
  let json: unknown;
  try {
    json = JSON.parse(plaintext.toString("utf8"));
  } catch {
    throw damaged("not JSON");
  }
  const parsed = documentSchema.safeParse(json);
  if (!parsed.success) throw damaged("unexpected shape");
  return parsed.data;
}

function readIfExists(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

function writeNewFile(file: string, data: Buffer): void {
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    let offset = 0;
    while (offset < data.length) offset += writeSync(fd, data, offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
