import { openRecord, envelopeEdek, sealRecord, type RecordBinding } from "./envelope";
import { CustodyError, type CustodyErrorDetails, isApiErrorCode, REFUSED_BEFORE_ACTING } from "./errors";
import type {
  BatchResult,
  BatchUnwrapItem,
  BatchWrapItem,
  CallMetadata,
  Metadata,
  RecordMetadata,
  RekeyedKey,
  UnwrappedKey,
  WrappedKey,
} from "./types";

export const SDK_VERSION = "0.1.0";

/** The part of `fetch` the client uses; the global fetch (or undici's) fits. */
export type FetchLike = (
  url: string,
  init: { method: "POST"; headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<{ status: number; headers: { get(name: string): string | null }; text(): Promise<string> }>;

export type CustodyClientOptions = {
  /** Where Custody answers, e.g. `https://custody.internal:3000`; the client appends `/api/v1/…`. */
  baseUrl: string | URL;
  /** A service credential, `csk_…`. */
  token: string;
  /** Per attempt, until the whole answer has arrived. Default 10 000. */
  timeoutMs?: number;
  /** Retries after the first attempt, where retrying is safe. Default 2. */
  maxRetries?: number;
  /** Base of the exponential backoff between attempts. Default 100. */
  retryDelayMs?: number;
  /** The longest the client waits between attempts; a longer Retry-After ends the retries. Default 5 000. */
  maxRetryDelayMs?: number;
  /** Replaces the global fetch (a proxy agent, instrumentation, tests). */
  fetch?: FetchLike;
};

export type CallOptions = {
  /** Aborts the call, including any wait between retries; the call rejects with the signal's reason. */
  signal?: AbortSignal;
};

type Operation = { path: string; idempotent: boolean };

// Wrap is not retried after a network failure or timeout: the key service may already have
// issued (and audited) a key. Unwrap, batch-unwrap, rekey and batch-rekey change nothing, so they are.
const OPERATIONS = {
  wrap: { path: "wrap", idempotent: false },
  unwrap: { path: "unwrap", idempotent: true },
  batchWrap: { path: "batch-wrap", idempotent: false },
  batchUnwrap: { path: "batch-unwrap", idempotent: true },
  rekey: { path: "rekey", idempotent: true },
  batchRekey: { path: "batch-rekey", idempotent: true },
} satisfies Record<string, Operation>;

/** Error codes of a connection that was never made, so nothing reached the key service. */
const NOT_CONNECTED = new Set(["ECONNREFUSED", "ENETUNREACH", "EHOSTUNREACH", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT"]);
const GATEWAY_STATUSES = new Set([502, 503, 504]);
const DEK_BASE64 = /^[A-Za-z0-9+/]{43}=$/;

type Reply = { json: unknown; fail: (message: string) => CustodyError; details: CustodyErrorDetails };

function errorCodeOf(error: unknown, depth = 0): string | undefined {
  if (!error || typeof error !== "object" || depth > 5) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") return code;
  if (error instanceof AggregateError) return errorCodeOf(error.errors[0], depth + 1);
  return errorCodeOf((error as { cause?: unknown }).cause, depth + 1);
}

function neverConnected(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== "object" || depth > 5) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && NOT_CONNECTED.has(code)) return true;
  // Several addresses tried (happy eyeballs): safe only if none of them connected.
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.every((e) => neverConnected(e, depth + 1));
  return neverConnected((error as { cause?: unknown }).cause, depth + 1);
}

function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** An error body's `{ code, message }` as a CustodyError (an unknown code is a bad_response). */
function apiError(body: unknown, details: CustodyErrorDetails): CustodyError | undefined {
  if (!isRecord(body) || typeof body.code !== "string" || typeof body.message !== "string") return undefined;
  if (isApiErrorCode(body.code)) return new CustodyError(body.code, body.message, details);
  return new CustodyError("bad_response", `The key service answered with an error code this SDK does not know (${body.code}): ${body.message}`, details);
}

function stringField(body: unknown, key: string, reply: Reply): string {
  const value = isRecord(body) ? body[key] : undefined;
  if (typeof value !== "string" || value === "") throw reply.fail(`The key service's answer has no ${key}.`);
  return value;
}

/** Decodes a DEK into its own (unpooled) buffer, so zeroing it leaves no copy in a shared pool. */
function readDek(body: unknown, reply: Reply): Buffer {
  const encoded = stringField(body, "dek", reply);
  if (!DEK_BASE64.test(encoded)) throw reply.fail("The key service's answer holds a data key that is not 32 bytes of base64.");
  const dek = Buffer.alloc(32);
  dek.write(encoded, "base64");
  return dek;
}

function readWrapped(body: unknown, reply: Reply): WrappedKey {
  const edek = stringField(body, "edek", reply);
  const tenantKeyId = stringField(body, "tenantKeyId", reply);
  return { dek: readDek(body, reply), edek, tenantKeyId };
}

function readUnwrapped(body: unknown, reply: Reply): UnwrappedKey {
  const tenantKeyId = stringField(body, "tenantKeyId", reply);
  return { dek: readDek(body, reply), tenantKeyId };
}

function readRekeyed(body: unknown, reply: Reply): RekeyedKey {
  const version = isRecord(body) ? body.version : undefined;
  if (typeof version !== "number" || !Number.isInteger(version) || version < 1) throw reply.fail("The key service's answer has no valid version.");
  return { edek: stringField(body, "edek", reply), tenantKeyId: stringField(body, "tenantKeyId", reply), version };
}

function readBatch<T extends object>(reply: Reply, count: number, read: (body: unknown, reply: Reply) => T): BatchResult<T>[] {
  const results = isRecord(reply.json) ? reply.json.results : undefined;
  if (!Array.isArray(results) || results.length !== count) throw reply.fail(`The key service's answer does not hold ${count} results.`);
  const out: BatchResult<T>[] = [];
  try {
    for (const result of results) {
      if (isRecord(result) && result.ok === true) {
        out.push({ ok: true, ...read(result, reply) });
      } else if (isRecord(result) && result.ok === false) {
        const { status: _batchStatus, ...details } = reply.details;
        const error = apiError(result.error, details);
        if (!error) throw reply.fail("A result in the key service's answer is malformed.");
        out.push({ ok: false, error });
      } else {
        throw reply.fail("A result in the key service's answer is malformed.");
      }
    }
  } catch (error) {
    // A batch that turns out malformed hands out no data key: the ones read so far are wiped.
    for (const result of out) if (result.ok && "dek" in result && Buffer.isBuffer(result.dek)) result.dek.fill(0);
    throw error;
  }
  return out;
}

function bindingOf(tenantId: string, metadata: RecordMetadata): RecordBinding {
  if (!metadata || typeof metadata.objectId !== "string" || metadata.objectId === "") {
    throw new TypeError("metadata.objectId is required: a record envelope is bound to its object.");
  }
  return { tenantId, dataLabel: metadata.dataLabel, objectId: metadata.objectId };
}

/**
 * A client for Custody's key service. One instance per process is enough: it holds no state
 * but its settings, and fetch pools connections.
 */
export class CustodyClient {
  readonly baseUrl: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #retryDelayMs: number;
  readonly #maxRetryDelayMs: number;
  readonly #fetch: FetchLike;

  constructor(options: CustodyClientOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new TypeError("baseUrl must be an absolute http(s) URL, e.g. http://localhost:3000.");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError("baseUrl must be an http(s) URL.");
    this.baseUrl = `${url.origin}${url.pathname.replace(/\/+$/, "")}`;

    if (typeof options.token !== "string" || !options.token.startsWith("csk_")) {
      throw new TypeError("token must be a Custody service credential (csk_…).");
    }
    this.#token = options.token;
    this.#timeoutMs = positive(options.timeoutMs, 10_000, "timeoutMs");
    this.#maxRetries = options.maxRetries === undefined ? 2 : count(options.maxRetries, "maxRetries");
    this.#retryDelayMs = positive(options.retryDelayMs, 100, "retryDelayMs");
    this.#maxRetryDelayMs = positive(options.maxRetryDelayMs, 5_000, "maxRetryDelayMs");
    if (options.fetch === undefined && typeof globalThis.fetch !== "function") throw new TypeError("No fetch available: pass options.fetch.");
    // Called as a plain function: some runtimes refuse a fetch invoked with another `this`.
    this.#fetch = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  }

  /** A fresh 256-bit data key and its EDEK, bound to the tenant and `metadata.dataLabel`. */
  async wrap(tenantId: string, metadata: Metadata, options?: CallOptions): Promise<WrappedKey> {
    const reply = await this.#call(OPERATIONS.wrap, { tenantId, metadata }, options);
    return readWrapped(reply.json, reply);
  }

  /** The data key inside `edek`; the tenant and `metadata.dataLabel` must be those it was wrapped for. */
  async unwrap(tenantId: string, edek: string, metadata: Metadata, options?: CallOptions): Promise<UnwrappedKey> {
    const reply = await this.#call(OPERATIONS.unwrap, { tenantId, edek, metadata }, options);
    return readUnwrapped(reply.json, reply);
  }

  /** Many wraps in one call (up to MAX_BATCH_ITEMS); one result per item, in order. */
  async batchWrap(tenantId: string, items: BatchWrapItem[], metadata?: CallMetadata, options?: CallOptions): Promise<BatchResult<WrappedKey>[]> {
    const reply = await this.#call(OPERATIONS.batchWrap, { tenantId, items, metadata }, options);
    return readBatch(reply, items.length, readWrapped);
  }

  /** Many unwraps in one call (up to MAX_BATCH_ITEMS); one result per item, in order. */
  async batchUnwrap(
    tenantId: string,
    items: BatchUnwrapItem[],
    metadata?: CallMetadata,
    options?: CallOptions,
  ): Promise<BatchResult<UnwrappedKey>[]> {
    const reply = await this.#call(OPERATIONS.batchUnwrap, { tenantId, items, metadata }, options);
    return readBatch(reply, items.length, readUnwrapped);
  }

  /** The same data key wrapped under the tenant's current key version (after a rotation), and that version. */
  async rekey(tenantId: string, edek: string, metadata: Metadata, options?: CallOptions): Promise<RekeyedKey> {
    const reply = await this.#call(OPERATIONS.rekey, { tenantId, edek, metadata }, options);
    return readRekeyed(reply.json, reply);
  }

  /**
   * Many rekeys in one call (up to MAX_BATCH_ITEMS): a re-key job's unit of work. One result per
   * item, in order; an item under a retired version fails alone with `key_version_retired`.
   */
  async batchRekey(
    tenantId: string,
    items: BatchUnwrapItem[],
    metadata?: CallMetadata,
    options?: CallOptions,
  ): Promise<BatchResult<RekeyedKey>[]> {
    const reply = await this.#call(OPERATIONS.batchRekey, { tenantId, items, metadata }, options);
    return readBatch(reply, items.length, readRekeyed);
  }

  /**
   * Encrypts a record under a fresh data key: one wrap call, then AES-256-GCM locally. Returns
   * the envelope to store (it holds the EDEK; see envelope.ts for the layout).
   */
  async encryptRecord(tenantId: string, plaintext: Uint8Array | string, metadata: RecordMetadata, options?: CallOptions): Promise<Buffer> {
    const binding = bindingOf(tenantId, metadata);
    const { dek, edek } = await this.wrap(tenantId, metadata, options);
    try {
      return sealRecord(dek, edek, binding, plaintext);
    } finally {
      dek.fill(0);
    }
  }

  /**
   * Decrypts an envelope made by encryptRecord (bytes, or their base64): one unwrap call, then
   * AES-256-GCM locally. An altered or moved envelope fails with `invalid_envelope` (or with
   * `invalid_edek` from the key service when its EDEK was altered or moved to another tenant or label).
   */
  async decryptRecord(tenantId: string, envelope: Uint8Array | string, metadata: RecordMetadata, options?: CallOptions): Promise<Buffer> {
    const binding = bindingOf(tenantId, metadata);
    const edek = envelopeEdek(envelope);
    const { dek } = await this.unwrap(tenantId, edek, metadata, options);
    try {
      return openRecord(envelope, dek, binding);
    } finally {
      dek.fill(0);
    }
  }

  async #call(operation: Operation, body: unknown, options: CallOptions | undefined): Promise<Reply> {
    const payload = JSON.stringify(body);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#attempt(operation, payload, attempt, options?.signal);
      } catch (error) {
        if (!(error instanceof CustodyError)) throw error;
        const wait = this.#retryWait(error, operation, attempt);
        if (wait === undefined) throw error;
        await sleep(wait, options?.signal);
      }
    }
  }

  /** How long to wait before the next attempt, or undefined when the error must go to the caller. */
  #retryWait(error: CustodyError, operation: Operation, attempt: number): number | undefined {
    if (attempt > this.#maxRetries) return undefined;
    const safe =
      (REFUSED_BEFORE_ACTING as readonly string[]).includes(error.code) ||
      (error.code === "network" && neverConnected(error.cause)) ||
      (operation.idempotent &&
        (error.code === "network" || error.code === "timeout" || (error.code === "bad_response" && GATEWAY_STATUSES.has(error.status ?? 0))));
    if (!safe) return undefined;
    if ((error.retryAfterMs ?? 0) > this.#maxRetryDelayMs) return undefined;
    // Exponential backoff with jitter (half fixed, half random), never sooner than Retry-After.
    const ceiling = Math.min(this.#maxRetryDelayMs, this.#retryDelayMs * 2 ** (attempt - 1));
    return Math.max(ceiling / 2 + Math.random() * (ceiling / 2), error.retryAfterMs ?? 0);
  }

  async #attempt(operation: Operation, payload: string, attempt: number, signal: AbortSignal | undefined): Promise<Reply> {
    if (signal?.aborted) throw signal.reason;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    const forwardAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener("abort", forwardAbort, { once: true });

    let status: number;
    let headers: { get(name: string): string | null };
    let text: string;
    try {
      const response = await this.#fetch(`${this.baseUrl}/api/v1/${operation.path}`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${this.#token}`,
          "content-type": "application/json",
          accept: "application/json",
          "user-agent": `custody-sdk-node/${SDK_VERSION}`,
        },
        body: payload,
        signal: controller.signal,
      });
      status = response.status;
      headers = response.headers;
      text = await response.text();
    } catch (cause) {
      if (signal?.aborted) throw signal.reason;
      if (timedOut) throw new CustodyError("timeout", `The key service did not answer within ${this.#timeoutMs} ms.`, { attempts: attempt, cause });
      const code = errorCodeOf(cause);
      throw new CustodyError("network", `Could not reach the key service at ${this.baseUrl}${code ? ` (${code})` : ""}.`, { attempts: attempt, cause });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", forwardAbort);
    }

    const details: CustodyErrorDetails = { status, requestId: headers.get("x-request-id") ?? undefined, attempts: attempt };
    const json = parseJson(text);
    if (status >= 200 && status < 300) {
      const fail = (message: string) => new CustodyError("bad_response", message, details);
      if (!isRecord(json)) throw fail(`The key service answered HTTP ${status} without a JSON body.`);
      return { json, fail, details };
    }
    const errorDetails = { ...details, retryAfterMs: parseRetryAfter(headers.get("retry-after")) };
    const error = apiError(isRecord(json) ? json.error : undefined, errorDetails);
    if (error) throw error;
    throw new CustodyError("bad_response", `The key service answered HTTP ${status} without a Custody error body (a proxy in between?).`, {
      ...errorDetails,
      retryable: GATEWAY_STATUSES.has(status),
    });
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number.`);
  return value;
}

function count(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) throw new TypeError(`${name} must be a whole number, 0 or more.`);
  return value;
}
