import { z } from "zod";

// The key service's wire contract (/api/v1). The handler validates with these schemas and the
// OpenAPI document (lib/keyservice/openapi.json) is generated from them, so the two cannot
// drift apart. Binary values (DEKs, EDEKs) travel as standard base64 with padding.

/** Items one batch call may carry; larger batches are refused whole with bad_request. */
export const MAX_BATCH_ITEMS = 1000;
/** Largest request body the key service reads (bytes); larger is payload_too_large. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The scopes a service credential can hold: which operations it may call. */
export const SERVICE_SCOPES = ["wrap", "unwrap", "rekey"] as const;
export type ServiceScope = (typeof SERVICE_SCOPES)[number];

// Visible text, as console names are: no control characters, no invisible formatting
// characters (\p{Cf}: zero-width spaces and joiners, direction marks and overrides, U+061C,
// U+FEFF…), no line or paragraph separators, so `invo\u200bices` cannot pass for `invoices` in the
// trail; and no lone surrogates (not valid Unicode: PostgreSQL would refuse the audit event).
const PRINTABLE = /^[^\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]*$/u;
const printable = (max: number, what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty.`)
    .max(max, `${what} must be at most ${max} characters.`)
    .regex(PRINTABLE, `${what} must not contain control characters or invisible formatting characters.`);

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const tenantIdSchema = z.uuid("tenantId must be a tenant id (a UUID).").describe("The Custody tenant id (UUID) whose key is used.");

export const dataLabelSchema = printable(128, "dataLabel").describe(
  "What kind of data the key protects (e.g. `invoices`). Bound into the EDEK: an EDEK unwraps only with the label it was wrapped with.",
);
export const objectIdSchema = printable(256, "objectId").describe("The record the key protects, for the audit trail.");

export const edekSchema = z
  .string()
  .min(1, "edek must not be empty.")
  .max(1024, "edek is too long.")
  .regex(BASE64, "edek must be base64.")
  .describe("An encrypted data key as returned by wrap, batch-wrap or rekey (base64).");

/** Who and why, for the audit trail: everything but the label and object, which are per item in batches. */
const callMetadataShape = {
  actor: printable(256, "actor").optional().describe("The end user or service on whose behalf the vendor's application acts."),
  reason: printable(512, "reason").optional().describe("Why the key is used (e.g. `render invoice`)."),
  requestId: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/, "requestId must be 1-128 letters, digits or . _ : -")
    .optional()
    .describe("The calling application's request id; recorded as the audit event's request id."),
};

export const callMetadataSchema = z.strictObject(callMetadataShape).describe("Request metadata recorded in the audit event.");

export const metadataSchema = z
  .strictObject({ ...callMetadataShape, dataLabel: dataLabelSchema, objectId: objectIdSchema.optional() })
  .describe("Request metadata recorded in the audit event; dataLabel is also bound into the EDEK.");

export const wrapRequestSchema = z.strictObject({ tenantId: tenantIdSchema, metadata: metadataSchema });
export const unwrapRequestSchema = z.strictObject({ tenantId: tenantIdSchema, edek: edekSchema, metadata: metadataSchema });
export const rekeyRequestSchema = unwrapRequestSchema;

export const batchWrapItemSchema = z.strictObject({ dataLabel: dataLabelSchema, objectId: objectIdSchema.optional() });
export const batchUnwrapItemSchema = z.strictObject({ edek: edekSchema, dataLabel: dataLabelSchema, objectId: objectIdSchema.optional() });

/**
 * Batch bodies check the envelope strictly but each item on its own (see the handler), so one
 * malformed item gets its own error instead of failing the batch.
 */
const itemsSchema = z
  .array(z.unknown())
  .min(1, "items must hold at least one item.")
  .max(MAX_BATCH_ITEMS, `items may hold at most ${MAX_BATCH_ITEMS} items.`);

export const batchWrapRequestSchema = z.strictObject({
  tenantId: tenantIdSchema,
  metadata: callMetadataSchema.default({}),
  items: itemsSchema.describe(`1-${MAX_BATCH_ITEMS} items, each { dataLabel, objectId? }.`),
});
export const batchUnwrapRequestSchema = z.strictObject({
  tenantId: tenantIdSchema,
  metadata: callMetadataSchema.default({}),
  items: itemsSchema.describe(`1-${MAX_BATCH_ITEMS} items, each { edek, dataLabel, objectId? }.`),
});
/** batch-rekey takes batch-unwrap's body (its own object, so the OpenAPI document names both). */
export const batchRekeyRequestSchema = z.strictObject({ ...batchUnwrapRequestSchema.shape });

export type Metadata = z.infer<typeof metadataSchema>;
export type CallMetadata = z.infer<typeof callMetadataSchema>;
export type WrapRequest = z.infer<typeof wrapRequestSchema>;
export type UnwrapRequest = z.infer<typeof unwrapRequestSchema>;
export type RekeyRequest = z.infer<typeof rekeyRequestSchema>;
export type BatchWrapRequest = z.infer<typeof batchWrapRequestSchema>;
export type BatchUnwrapRequest = z.infer<typeof batchUnwrapRequestSchema>;
export type BatchRekeyRequest = z.infer<typeof batchRekeyRequestSchema>;
export type BatchWrapItem = z.infer<typeof batchWrapItemSchema>;
export type BatchUnwrapItem = z.infer<typeof batchUnwrapItemSchema>;

// Responses (documented in the OpenAPI document; the handler builds them).

/** The codes the key service answers with, and their HTTP statuses (a subset of lib/errors). */
export const KEY_SERVICE_ERRORS = {
  bad_request: { status: 400, description: "The request is malformed; the message says what to fix." },
  unauthenticated: { status: 401, description: "No valid service credential (missing, unknown, wrong secret or revoked)." },
  forbidden: { status: 403, description: "The credential lacks the scope for this operation, or is restricted to another tenant." },
  access_revoked: { status: 403, description: "The tenant has revoked the vendor's access to its key." },
  unknown_tenant: { status: 404, description: "No tenant has this id." },
  not_found: { status: 404, description: "No such endpoint." },
  no_key_configured: { status: 409, description: "The tenant has no verified KMS key yet." },
  payload_too_large: { status: 413, description: `The body is larger than ${MAX_BODY_BYTES} bytes.` },
  rate_limited: {
    status: 429,
    description: "Too many failed authentications from this address, or with this credential id. Retry after the Retry-After seconds.",
  },
  invalid_edek: { status: 422, description: "The EDEK is malformed, was issued for another tenant or label, or was altered." },
  key_version_retired: {
    status: 410,
    description: "The EDEK is under a tenant key version the tenant has retired; it can no longer be unwrapped or rekeyed.",
  },
  internal: { status: 500, description: "An unexpected error; it has been logged." },
  kms_denied: { status: 502, description: "The tenant's KMS refused Custody (key disabled, permission or grant removed)." },
  kms_unreachable: { status: 503, description: "The tenant's KMS could not be reached. Safe to retry later." },
  kms_throttled: { status: 503, description: "The tenant's KMS is throttling Custody. Retry after the Retry-After seconds." },
  unavailable: { status: 503, description: "Custody cannot record the audit event right now, so it refuses the operation. Safe to retry." },
} as const;
export type KeyServiceErrorCode = keyof typeof KEY_SERVICE_ERRORS;

export const errorBodySchema = z.strictObject({
  error: z.strictObject({
    code: z.enum(Object.keys(KEY_SERVICE_ERRORS) as [KeyServiceErrorCode, ...KeyServiceErrorCode[]]),
    message: z.string().describe("Plain-language explanation; never contains key material."),
  }),
});

const base64Of = (what: string) => z.string().describe(`${what} (base64)`);
const tenantKeyIdSchema = z.uuid().describe("The tenant key the EDEK is wrapped under.");

export const wrapResponseSchema = z.strictObject({
  dek: base64Of("The 256-bit data key in plaintext; use it for AES-256-GCM and then discard it"),
  edek: base64Of("The data key wrapped under the tenant key; store it beside the data"),
  tenantKeyId: tenantKeyIdSchema,
});
export const unwrapResponseSchema = z.strictObject({ dek: base64Of("The 256-bit data key in plaintext"), tenantKeyId: tenantKeyIdSchema });
export const rekeyResponseSchema = z.strictObject({
  edek: base64Of("The same data key wrapped under the tenant's current primary tenant key"),
  tenantKeyId: tenantKeyIdSchema,
  version: z.int().positive().describe("The tenant key version (1, 2, …) the EDEK is now under: the tenant's current version."),
});

const itemError = z.strictObject({ ok: z.literal(false), error: errorBodySchema.shape.error });
export const batchWrapResponseSchema = z.strictObject({
  results: z.array(z.union([wrapResponseSchema.extend({ ok: z.literal(true) }), itemError])).describe("One result per item, in order."),
});
export const batchUnwrapResponseSchema = z.strictObject({
  results: z.array(z.union([unwrapResponseSchema.extend({ ok: z.literal(true) }), itemError])).describe("One result per item, in order."),
});

export const batchRekeyResponseSchema = z.strictObject({
  results: z.array(z.union([rekeyResponseSchema.extend({ ok: z.literal(true) }), itemError])).describe("One result per item, in order."),
});

export type WrapResponse = z.infer<typeof wrapResponseSchema>;
export type UnwrapResponse = z.infer<typeof unwrapResponseSchema>;
export type RekeyResponse = z.infer<typeof rekeyResponseSchema>;
export type BatchWrapResponse = z.infer<typeof batchWrapResponseSchema>;
export type BatchUnwrapResponse = z.infer<typeof batchUnwrapResponseSchema>;
export type BatchRekeyResponse = z.infer<typeof batchRekeyResponseSchema>;
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** Service credential tokens: `csk_<32 hex: credential id>_<43 base64url: secret>`. */
export const SERVICE_TOKEN = /^csk_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;
