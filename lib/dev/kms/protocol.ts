import type { IncomingMessage, ServerResponse } from "node:http";
import { KmsError, serialization, unknownOperation } from "./errors";

// The AWS JSON 1.1 wire protocol as KMS speaks it: POST / with
// Content-Type application/x-amz-json-1.1 and X-Amz-Target TrentService.<Operation>, a JSON
// object body; responses are JSON with the same content type (an empty body for operations
// without output), blobs are base64 strings and timestamps epoch seconds. Errors are
// {"__type": "<Code>", "message": "..."} with the code repeated in x-amzn-ErrorType. Every
// response carries x-amzn-RequestId, which the SDK reports as $metadata.requestId.

const CONTENT_TYPE = "application/x-amz-json-1.1";
const TARGET_PREFIX = "TrentService.";
/** Far above any valid KMS request (policies are at most 32 KiB); bounds memory per request. */
const MAX_BODY_BYTES = 1024 * 1024;

export class BodyTooLargeError extends Error {}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
      reject(new BodyTooLargeError());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLargeError());
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** The operation named by X-Amz-Target, after checking the request is AWS JSON 1.1. */
export function operationName(req: IncomingMessage): string {
  const target = req.headers["x-amz-target"];
  if (req.method !== "POST" || typeof target !== "string" || !target.startsWith(TARGET_PREFIX)) {
    throw unknownOperation("The request is not a KMS API call (POST with X-Amz-Target: TrentService.<Operation>).");
  }
  const contentType = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (contentType !== CONTENT_TYPE) throw serialization(`Content-Type must be ${CONTENT_TYPE}`);
  return target.slice(TARGET_PREFIX.length);
}

export function parseJsonBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    throw serialization("The request body is not valid JSON.");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw serialization("The request body must be a JSON object.");
  return value as Record<string, unknown>;
}

export function sendResult(res: ServerResponse, requestId: string, output: Record<string, unknown> | undefined): void {
  const body = output === undefined ? "" : JSON.stringify(output);
  res.writeHead(200, {
    "content-type": CONTENT_TYPE,
    "content-length": Buffer.byteLength(body),
    "x-amzn-requestid": requestId,
  });
  res.end(body);
}

export function sendError(res: ServerResponse, requestId: string, error: KmsError): void {
  const body = JSON.stringify({ __type: error.code, message: error.message });
  res.writeHead(error.httpStatus, {
    "content-type": CONTENT_TYPE,
    "content-length": Buffer.byteLength(body),
    "x-amzn-requestid": requestId,
    "x-amzn-errortype": error.code,
  });
  res.end(body);
}
