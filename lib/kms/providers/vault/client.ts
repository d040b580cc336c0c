import { credentialsError, VaultError, vaultNetworkError, vaultReplyError, type VaultOperation } from "./errors";
import { vaultRequest, type VaultEndpoint } from "./http";
import type { VaultKeyRef } from "./key-ref";
import type { VaultServer } from "./settings";

// Custody's Vault transit client: encrypt, decrypt and read a key for a key reference, on the
// server entry (address + namespace) the vendor configured credentials for. Tokens come from
// the entry's static token or an AppRole login (cached until 80% of its lease, shared by
// concurrent callers, redone once when Vault refuses the token). Throttling, server errors and
// network failures are retried with exponential backoff and full jitter; a 403 is told apart
// as the token's fault (lookup-self refused: the vendor's credentials) or the policy's (the
// customer's).

export type VaultClientOptions = {
  servers: readonly VaultServer[];
  /** Attempts per call, the first included. */
  maxAttempts: number;
  /** Deadline of each HTTP exchange. */
  timeoutMs: number;
  /** Milliseconds to wait before attempt `attempt + 1` (tests pass 0). */
  backoffMs?: (attempt: number) => number;
};

export type VaultKeyInfo = {
  type: string;
  derived: boolean;
  latestVersion: number;
  minDecryptionVersion: number;
  minEncryptionVersion: number;
  supportsEncryption: boolean;
  supportsDecryption: boolean;
  /** OpenBao: soft-deleted, refused for every use until restored. */
  softDeleted: boolean;
};

export type VaultTransitClient = {
  /** transit/encrypt with `binding` as both derivation context and associated data; the ciphertext ("vault:vN:…"). */
  encrypt(ref: VaultKeyRef, plaintext: Buffer, binding: Buffer): Promise<string>;
  decrypt(ref: VaultKeyRef, ciphertext: string, binding: Buffer): Promise<Buffer>;
  readKey(ref: VaultKeyRef): Promise<VaultKeyInfo>;
};

const fullJitter = (attempt: number) => Math.random() * Math.min(2_000, 100 * 2 ** attempt);

type Session = { server: VaultServer; endpoint: VaultEndpoint; token?: Promise<{ value: string; renewAt: number }> };

export function createVaultTransitClient(options: VaultClientOptions): VaultTransitClient {
  const sessions = new Map<string, Session>();
  const backoff = options.backoffMs ?? fullJitter;

  function sessionFor(ref: VaultKeyRef, operation: VaultOperation): Session {
    const id = `${ref.address} ${ref.namespace}`;
    let session = sessions.get(id);
    if (!session) {
      const server = options.servers.find((s) => s.address === ref.address && s.namespace === ref.namespace);
      if (!server) throw credentialsError(operation, "no-credentials");
      session = { server, endpoint: { address: server.address, namespace: server.namespace || undefined, caPem: server.caPem, timeoutMs: options.timeoutMs } };
      sessions.set(id, session);
    }
    return session;
  }

  async function login(session: Session): Promise<{ value: string; renewAt: number }> {
    const auth = session.server.auth;
    if (auth.method === "token") return { value: auth.token, renewAt: Infinity };
    const reply = await vaultRequest(session.endpoint, { method: "POST", path: `auth/${auth.mount}/login`, body: { role_id: auth.roleId, secret_id: auth.secretId } }).catch((error: unknown) => {
      throw vaultNetworkError(error, "auth/approle/login");
    });
    if (reply.status !== 200) throw vaultReplyError(reply, "auth/approle/login");
    const block = (reply.json as { auth?: { client_token?: unknown; lease_duration?: unknown } } | undefined)?.auth;
    if (typeof block?.client_token !== "string") throw vaultReplyError({ ...reply, isJson: false }, "auth/approle/login");
    const lease = typeof block.lease_duration === "number" && block.lease_duration > 0 ? block.lease_duration : Infinity;
    return { value: block.client_token, renewAt: Date.now() + lease * 800 };
  }

  async function token(session: Session): Promise<string> {
    const current = session.token;
    if (current) {
      const held = await current.catch(() => undefined);
      if (held && Date.now() < held.renewAt) return held.value;
      if (session.token !== current) return token(session);
    }
    const next = login(session);
    session.token = next;
    next.catch(() => {
      if (session.token === next) session.token = undefined;
    });
    return (await next).value;
  }

  async function tokenRefused(session: Session, value: string): Promise<boolean> {
    const reply = await vaultRequest(session.endpoint, { method: "GET", path: "auth/token/lookup-self", token: value }).catch(() => undefined);
    return reply?.status === 403;
  }

  async function keyMissing(session: Session, value: string, keyPath: string): Promise<boolean> {
    const reply = await vaultRequest(session.endpoint, { method: "GET", path: keyPath, token: value }).catch(() => undefined);
    return reply?.status === 404;
  }

  async function once(session: Session, operation: VaultOperation, method: "GET" | "POST", path: string, body: unknown, keyPath?: string): Promise<Record<string, unknown>> {
    let relogged = false;
    for (;;) {
      const value = await token(session);
      const reply = await vaultRequest(session.endpoint, { method, path, token: value, body }).catch((error: unknown) => {
        throw vaultNetworkError(error, operation);
      });
      if (reply.status === 200) {
        const data = (reply.json as { data?: unknown } | undefined)?.data;
        if (!reply.isJson || typeof data !== "object" || data === null) throw vaultReplyError({ ...reply, status: 502, isJson: false }, operation);
        return data as Record<string, unknown>;
      }
      const error = vaultReplyError(reply, operation);
      if (error.kind !== "access_denied") throw error;
      if (session.server.auth.method === "approle" && !relogged) {
        relogged = true;
        if (session.token) session.token = undefined;
        continue;
      }
      if (await tokenRefused(session, value)) throw credentialsError(operation, "token-refused");
      // Encrypting with a key that does not exist needs `create` (Vault would make it), so Vault
      // says "permission denied"; the policy's read on the key tells a missing key apart.
      if (keyPath && (await keyMissing(session, value, keyPath))) throw vaultReplyError({ status: 404, json: { errors: [] }, isJson: true }, operation);
      throw error;
    }
  }

  async function call(ref: VaultKeyRef, operation: VaultOperation, method: "GET" | "POST", path: string, body?: unknown, keyPath?: string): Promise<Record<string, unknown>> {
    const session = sessionFor(ref, operation);
    for (let attempt = 1; ; attempt++) {
      try {
        return await once(session, operation, method, path, body, keyPath);
      } catch (error) {
        const failure = error instanceof VaultError ? error : vaultNetworkError(error, operation);
        if (!failure.retryable || attempt >= options.maxAttempts) throw failure;
        await new Promise((resolve) => setTimeout(resolve, backoff(attempt)));
      }
    }
  }

  const keyPath = (ref: VaultKeyRef, what: "encrypt" | "decrypt" | "keys") => `${ref.mount}/${what}/${encodeURIComponent(ref.key)}`;
  const bound = (binding: Buffer) => ({ context: binding.toString("base64"), associated_data: binding.toString("base64") });
  const malformed = (operation: VaultOperation) => vaultReplyError({ status: 502, json: undefined, isJson: false }, operation);

  return {
    async encrypt(ref, plaintext, binding) {
      const data = await call(ref, "transit/encrypt", "POST", keyPath(ref, "encrypt"), { plaintext: plaintext.toString("base64"), ...bound(binding) }, keyPath(ref, "keys"));
      if (typeof data.ciphertext !== "string" || !/^vault:v[0-9]+:[A-Za-z0-9+/=]+$/.test(data.ciphertext)) throw malformed("transit/encrypt");
      return data.ciphertext;
    },
    async decrypt(ref, ciphertext, binding) {
      const data = await call(ref, "transit/decrypt", "POST", keyPath(ref, "decrypt"), { ciphertext, ...bound(binding) });
      if (typeof data.plaintext !== "string") throw malformed("transit/decrypt");
      return Buffer.from(data.plaintext, "base64");
    },
    async readKey(ref) {
      const data = await call(ref, "transit/keys", "GET", keyPath(ref, "keys"));
      const number = (value: unknown) => (typeof value === "number" && Number.isInteger(value) ? value : NaN);
      const info: VaultKeyInfo = {
        type: typeof data.type === "string" ? data.type : "",
        derived: data.derived === true,
        latestVersion: number(data.latest_version),
        minDecryptionVersion: number(data.min_decryption_version),
        minEncryptionVersion: number(data.min_encryption_version ?? 0),
        supportsEncryption: data.supports_encryption === true,
        supportsDecryption: data.supports_decryption === true,
        softDeleted: data.soft_deleted === true,
      };
      if (info.type === "" || Number.isNaN(info.latestVersion) || Number.isNaN(info.minDecryptionVersion)) throw malformed("transit/keys");
      return info;
    },
  };
}
