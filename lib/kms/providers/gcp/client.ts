import { KeyManagementServiceClient } from "@google-cloud/kms";
import { JWT } from "google-auth-library";
import { gcpKmsError, toGcpKmsError, type GcpOperation } from "./errors";
import { withRetries } from "./retry";
import { parseGcpKeyRef } from "./key-ref";

// Custody's Cloud KMS client: @google-cloud/kms over its REST transport, authenticated as
// Custody's service account (its key file, or Google's application default credentials), the
// endpoint Cloud KMS's own unless configured. Tenant keys are made by Custody and wrapped with
// Encrypt with additional authenticated data naming the tenant (kms-client.ts), so a wrapped key
// opens only for the tenant it was made for.

export type GcpServiceAccountKey = { client_email: string; private_key: string; private_key_id?: string; project_id?: string; token_uri?: string };

export type GcpKmsConfig = {
  /** Custody's service-account key; undefined: application default credentials (workload identity, metadata server). */
  credentials?: GcpServiceAccountKey;
  /** e.g. https://cloudkms.example.p.googleapis.com; undefined: https://cloudkms.googleapis.com. */
  endpoint?: string;
  /** Attempts per call, including the first; throttling and transient failures are retried with backoff. */
  maxAttempts: number;
  /** Each attempt's deadline. */
  requestTimeoutMs: number;
  /** The first retry's delay bound; it doubles per attempt up to 2 s, each delay drawn at random below it. */
  initialRetryDelayMs?: number;
};

export type GcpVersionState = "ENABLED" | "DISABLED" | "DESTROYED" | "DESTROY_SCHEDULED" | "OTHER";

export type GcpKeyDescription = {
  name: string;
  purpose: string;
  primaryVersion: string | null;
  primaryState: GcpVersionState;
};

export type GcpKms = {
  describeKey(keyName: string): Promise<GcpKeyDescription>;
  encrypt(keyName: string, plaintext: Uint8Array, aad: Buffer): Promise<Buffer>;
  decrypt(keyName: string, ciphertext: Uint8Array, aad: Buffer): Promise<Buffer>;
  close(): Promise<void>;
};

function endpointOptions(endpoint: string | undefined) {
  if (!endpoint) return {};
  const url = new URL(endpoint);
  const protocol = url.protocol === "http:" ? "http" : "https";
  return { apiEndpoint: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port || (protocol === "http" ? 80 : 443)), protocol };
}

const stateOf = (state: unknown): GcpVersionState =>
  state === "ENABLED" || state === "DISABLED" || state === "DESTROYED" || state === "DESTROY_SCHEDULED" ? state : "OTHER";

export function createGcpKms(config: GcpKmsConfig): GcpKms {
  const client = new KeyManagementServiceClient({
    fallback: "rest",
    ...endpointOptions(config.endpoint),
    // A key file becomes the library's service-account client (it signs each request's token
    // with the key); without one the library finds application default credentials itself.
    ...(config.credentials
      ? { authClient: new JWT({ email: config.credentials.client_email, key: config.credentials.private_key, keyId: config.credentials.private_key_id }) }
      : {}),
  });
  // The library's own retry is off: its last error after exhausting retries is a
  // DEADLINE_EXCEEDED that hides whether Cloud KMS throttled or was away. Custody retries
  // itself (withRetries), each attempt with its own deadline.
  const callOptions = { timeout: config.requestTimeoutMs, retry: null };
  const retries = { maxAttempts: config.maxAttempts, initialDelayMs: config.initialRetryDelayMs ?? 100 };

  async function call<T>(operation: GcpOperation, keyName: string, run: (name: string) => Promise<T>): Promise<T> {
    let name: string;
    try {
      name = parseGcpKeyRef(keyName).name;
    } catch {
      throw gcpKmsError("invalid_request", operation, "InvalidKeyName");
    }
    try {
      return await withRetries(retries, () => run(name));
    } catch (error) {
      throw toGcpKmsError(error, operation);
    }
  }

  return {
    describeKey: (keyName) =>
      call("GetCryptoKey", keyName, async (name) => {
        const [key] = await client.getCryptoKey({ name }, callOptions);
        return {
          name: key.name ?? name,
          purpose: String(key.purpose ?? "UNKNOWN"),
          primaryVersion: key.primary?.name ?? null,
          primaryState: stateOf(key.primary?.state),
        };
      }),
    encrypt: (keyName, plaintext, aad) =>
      call("Encrypt", keyName, async (name) => {
        const [out] = await client.encrypt({ name, plaintext, additionalAuthenticatedData: aad }, callOptions);
        if (!out.ciphertext) throw gcpKmsError("bad_response", "Encrypt", "EmptyResponse");
        return Buffer.from(out.ciphertext);
      }),
    decrypt: (keyName, ciphertext, aad) =>
      call("Decrypt", keyName, async (name) => {
        const [out] = await client.decrypt({ name, ciphertext, additionalAuthenticatedData: aad }, callOptions);
        if (!out.plaintext) throw gcpKmsError("bad_response", "Decrypt", "EmptyResponse");
        return Buffer.from(out.plaintext);
      }),
    close: () => client.close(),
  };
}
