import { randomBytes, timingSafeEqual } from "node:crypto";
import {
  closeSync,
  constants,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import { log } from "@/lib/log";
import { aesGcmOpen, aesGcmSeal, AES_KEY_BYTES, deriveKey, GCM_IV_BYTES, GCM_TAG_BYTES } from "./crypto";

// The data folder on disk:
//
//   master.key   the 256-bit master key, base64, mode 0600 (absent when the key is passed in)
//   store.enc    the whole key store, encrypted (format below)
//   lock         the process id of the server using the folder
//
// store.enc:  "CDKMSTOR" | version 1 (1 byte) | key check value (16) | IV (12) | ciphertext | tag (16)
//
// The store is AES-256-GCM encrypted under a key derived from the master key (HKDF-SHA256,
// info "custody-dev-kms/v1/store"); the header is authenticated as additional data. The key
// check value, derived from the master key with another HKDF label, tells "wrong master key"
// apart from "damaged file" so start-up can say which. Writes go to a temporary file that is
// flushed and then renamed over store.enc, so a crash leaves the old or the new store, never
// half of one.

const STORE_FILE = "store.enc";
const MASTER_KEY_FILE = "master.key";
const LOCK_FILE = "lock";
const TEMP_SUFFIX = ".tmp";
const MAGIC = Buffer.from("CDKMSTOR", "ascii");
const VERSION = 1;
const CHECK_BYTES = 16;
const HEADER_BYTES = MAGIC.length + 1 + CHECK_BYTES;
const NO_SALT = Buffer.alloc(0);

export class StoreStartupError extends Error {
  override name = "StoreStartupError";
}

/** Keys derived from the master key, one per purpose. */
export type DerivedKeys = { storeKey: Buffer; checkValue: Buffer; grantTokenKey: Buffer; sessionKey: Buffer };

export function deriveKeys(masterKey: Buffer): DerivedKeys {
  return {
    storeKey: deriveKey(masterKey, NO_SALT, "custody-dev-kms/v1/store"),
    checkValue: deriveKey(masterKey, NO_SALT, "custody-dev-kms/v1/key-check", CHECK_BYTES),
    grantTokenKey: deriveKey(masterKey, NO_SALT, "custody-dev-kms/v1/grant-token"),
    sessionKey: deriveKey(masterKey, NO_SALT, "custody-dev-kms/v1/sts-session"),
  };
}

export class StoreFiles {
  readonly storePath: string;
  private readonly lockPath: string;
  private locked = false;

  constructor(readonly dir: string) {
    this.storePath = path.join(dir, STORE_FILE);
    this.lockPath = path.join(dir, LOCK_FILE);
  }

  /** Creates the folder (0700), takes the lock and removes temporary files a crash left. */
  open(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.lock();
    for (const name of readdirSync(this.dir)) {
      if (name.startsWith(`${STORE_FILE}.`) && name.endsWith(TEMP_SUFFIX)) unlinkSync(path.join(this.dir, name));
    }
  }

  close(): void {
    if (!this.locked) return;
    this.locked = false;
    try {
      if (readFileSync(this.lockPath, "utf8").trim() === String(process.pid)) unlinkSync(this.lockPath);
    } catch {
      // Already gone: nothing to release.
    }
  }

  /** The given master key, or the one in master.key, created (0600) on first start. */
  masterKey(given: Buffer | undefined): Buffer {
    if (given !== undefined) {
      if (given.length !== AES_KEY_BYTES) throw new StoreStartupError(`The dev KMS master key must be ${AES_KEY_BYTES} bytes, got ${given.length}`);
      return given;
    }
    const keyPath = path.join(this.dir, MASTER_KEY_FILE);
    let text: string;
    try {
      text = readFileSync(keyPath, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      if (exists(this.storePath)) {
        throw new StoreStartupError(`The dev KMS store ${this.storePath} exists but its master key file ${keyPath} is missing; restore it or pass the master key`);
      }
      const key = randomBytes(AES_KEY_BYTES);
      writeNewFile(keyPath, Buffer.from(`${key.toString("base64")}\n`, "utf8"));
      return key;
    }
    if ((statSync(keyPath).mode & 0o077) !== 0) {
      log.warn({ file: keyPath }, "the dev KMS master key file is readable by other users; chmod 600 it");
    }
    const key = Buffer.from(text.trim(), "base64");
    if (key.length !== AES_KEY_BYTES || key.toString("base64") !== text.trim()) {
      throw new StoreStartupError(`The dev KMS master key file ${keyPath} does not hold a base64 ${AES_KEY_BYTES}-byte key`);
    }
    return key;
  }

  /** The decrypted store document, or undefined when there is no store yet. */
  read(keys: DerivedKeys): Buffer | undefined {
    let file: Buffer;
    try {
      file = readFileSync(this.storePath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    const damaged = (why: string) => new StoreStartupError(`The dev KMS store ${this.storePath} is damaged (${why}); restore it from a backup or remove the data folder`);
    if (file.length < HEADER_BYTES + GCM_IV_BYTES + GCM_TAG_BYTES || !file.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw damaged("not a dev KMS store file");
    }
    const version = file.readUInt8(MAGIC.length);
    if (version !== VERSION) throw damaged(`format version ${version}, this server reads version ${VERSION}`);
    const checkValue = file.subarray(MAGIC.length + 1, HEADER_BYTES);
    if (!timingSafeEqual(checkValue, keys.checkValue)) {
      throw new StoreStartupError(`The dev KMS store ${this.storePath} was written with a different master key; start it with the master key it was created with`);
    }
    const ivEnd = HEADER_BYTES + GCM_IV_BYTES;
    const plaintext = aesGcmOpen(
      keys.storeKey,
      { iv: file.subarray(HEADER_BYTES, ivEnd), ciphertext: file.subarray(ivEnd, file.length - GCM_TAG_BYTES), tag: file.subarray(file.length - GCM_TAG_BYTES) },
      file.subarray(0, HEADER_BYTES),
    );
    if (!plaintext) throw damaged("it does not authenticate under its master key");
    return plaintext;
  }

  /** Encrypts and atomically replaces the store. */
  write(keys: DerivedKeys, document: Buffer): void {
    const header = Buffer.alloc(HEADER_BYTES);
    MAGIC.copy(header, 0);
    header.writeUInt8(VERSION, MAGIC.length);
    keys.checkValue.copy(header, MAGIC.length + 1);
    const sealed = aesGcmSeal(keys.storeKey, document, header);
    const temp = `${this.storePath}.${randomBytes(6).toString("hex")}${TEMP_SUFFIX}`;
    try {
      writeNewFile(temp, Buffer.concat([header, sealed.iv, sealed.ciphertext, sealed.tag]));
      renameSync(temp, this.storePath);
    } catch (error) {
      try {
        unlinkSync(temp);
      } catch {
        // The temporary file was never created or is already renamed.
      }
      throw error;
    }
    syncDirectory(this.dir);
  }

  /**
   * One server per data folder: two would overwrite each other's changes. A lock left by a
   * process that no longer runs is taken over.
   */
  private lock(): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeNewFile(this.lockPath, Buffer.from(`${process.pid}\n`));
        this.locked = true;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const owner = Number.parseInt(readFileIfExists(this.lockPath) ?? "", 10);
      if (Number.isInteger(owner) && owner > 0 && processIsRunning(owner)) {
        throw new StoreStartupError(
          owner === process.pid
            ? `The dev KMS data folder ${this.dir} is already open in this process`
            : `The dev KMS data folder ${this.dir} is in use by process ${owner}; stop it, or remove ${this.lockPath} if that process is not a dev KMS`,
        );
      }
      try {
        unlinkSync(this.lockPath);
      } catch {
        // Another starter removed it first; the next attempt decides.
      }
    }
    throw new StoreStartupError(`Could not lock the dev KMS data folder ${this.dir}`);
  }
}

/** Creates `file` (failing if it exists: never clobber) with mode 0600 and flushes it to disk. */
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

/** Makes the rename itself durable. Not every platform can fsync a directory; that is not fatal. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // e.g. Windows: directories cannot be opened for fsync.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function processIsRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function exists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}

function readFileIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
