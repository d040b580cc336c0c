import { z } from "zod";
import {
  batchRekeyRequestSchema,
  batchRekeyResponseSchema,
  batchUnwrapItemSchema,
  batchUnwrapRequestSchema,
  batchUnwrapResponseSchema,
  batchWrapItemSchema,
  batchWrapRequestSchema,
  batchWrapResponseSchema,
  callMetadataSchema,
  errorBodySchema,
  KEY_SERVICE_ERRORS,
  type KeyServiceErrorCode,
  MAX_BATCH_ITEMS,
  MAX_BODY_BYTES,
  metadataSchema,
  rekeyRequestSchema,
  rekeyResponseSchema,
  unwrapRequestSchema,
  unwrapResponseSchema,
  wrapRequestSchema,
  wrapResponseSchema,
} from "@/lib/validation/keyservice";

// The key service's OpenAPI 3.1 document, generated from the zod contract so the two cannot
// drift. Pure (no server-only imports): `npm run openapi` writes it to openapi.json, and a unit
// test fails when the committed file is stale. Key order is fixed by construction, so the
// output is byte-for-byte reproducible.

type Json = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** JSON Schemas for a set of zod schemas, cross-referencing each other through components. */
function componentSchemas(schemas: Record<string, z.ZodType>, io: "input" | "output"): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const { schemas: generated } = z.toJSONSchema(registry, {
    target: "draft-2020-12",
    io,
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, Json> };
  // OpenAPI 3.1 fixes the dialect for the whole document; a fragment-only $id is not valid 2020-12.
  return Object.fromEntries(
    Object.keys(schemas).map((id) => {
      const { $schema: _dialect, $id: _id, ...schema } = generated[id]!;
      return [id, schema];
    }),
  );
}

/** Batch bodies take `unknown` items so each bad item gets its own error; document what a good one is. */
function withItemRef(schema: Json, itemName: string): Json {
  const properties = schema.properties as Record<string, Json>;
  return { ...schema, properties: { ...properties, items: { ...properties.items, items: ref(itemName) } } };
}

function requestSchemas(): Record<string, Json> {
  const generated = componentSchemas(
    {
      Metadata: metadataSchema,
      CallMetadata: callMetadataSchema,
      WrapRequest: wrapRequestSchema,
      UnwrapRequest: unwrapRequestSchema,
      // rekey takes the same body as unwrap (today the same zod object, which a registry holds once).
      RekeyRequest: rekeyRequestSchema.describe("An EDEK to re-wrap under the tenant's current primary tenant key."),
      BatchWrapItem: batchWrapItemSchema,
      BatchUnwrapItem: batchUnwrapItemSchema,
      BatchWrapRequest: batchWrapRequestSchema,
      BatchUnwrapRequest: batchUnwrapRequestSchema,
      BatchRekeyRequest: batchRekeyRequestSchema.describe("EDEKs to re-wrap under the tenant's current tenant key version."),
    },
    "input",
  );
  generated.BatchWrapRequest = withItemRef(generated.BatchWrapRequest!, "BatchWrapItem");
  generated.BatchUnwrapRequest = withItemRef(generated.BatchUnwrapRequest!, "BatchUnwrapItem");
  generated.BatchRekeyRequest = withItemRef(generated.BatchRekeyRequest!, "BatchUnwrapItem");
  return generated;
}

function responseSchemas(): Record<string, Json> {
  return componentSchemas(
    {
      WrapResponse: wrapResponseSchema,
      UnwrapResponse: unwrapResponseSchema,
      RekeyResponse: rekeyResponseSchema,
      BatchWrapResponse: batchWrapResponseSchema,
      BatchUnwrapResponse: batchUnwrapResponseSchema,
      BatchRekeyResponse: batchRekeyResponseSchema,
      ErrorBody: errorBodySchema,
      Error: errorBodySchema.shape.error,
    },
    "output",
  );
}

/** Codes any authenticated operation on a tenant can answer with. */
const COMMON_CODES: KeyServiceErrorCode[] = [
  "bad_request",
  "unauthenticated",
  "forbidden",
  "access_revoked",
  "unknown_tenant",
  "no_key_configured",
  "payload_too_large",
  "rate_limited",
  "internal",
  "kms_denied",
  "kms_unreachable",
  "kms_throttled",
  "unavailable",
];
const WITH_EDEK: KeyServiceErrorCode[] = [...COMMON_CODES, "invalid_edek", "key_version_retired"];

const RETRY_CODES = new Set<KeyServiceErrorCode>(["rate_limited", "kms_unreachable", "kms_throttled", "unavailable"]);

/** One response object per HTTP status, listing every code that status carries for this operation. */
function errorResponses(codes: KeyServiceErrorCode[]): Record<string, Json> {
  const byStatus = new Map<number, KeyServiceErrorCode[]>();
  for (const code of codes) {
    const status = KEY_SERVICE_ERRORS[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, Json> = {};
  for (const status of [...byStatus.keys()].sort((a, b) => a - b)) {
    const statusCodes = byStatus.get(status)!;
    const retry = statusCodes.some((code) => RETRY_CODES.has(code));
    responses[String(status)] = {
      description: statusCodes.map((code) => `\`${code}\`: ${KEY_SERVICE_ERRORS[code].description}`).join("\n\n"),
      headers: {
        "X-Request-Id": { $ref: "#/components/headers/RequestId" },
        ...(retry ? { "Retry-After": { $ref: "#/components/headers/RetryAfter" } } : {}),
      },
      content: {
        "application/json": {
          schema: ref("ErrorBody"),
          examples: Object.fromEntries(
            statusCodes.map((code) => [
              code,
              { value: { error: { code, message: KEY_SERVICE_ERRORS[code].description } } },
            ]),
          ),
        },
      },
    };
  }
  return responses;
}

type Operation = {
  path: string;
  operationId: string;
  summary: string;
  description: string;
  scope: "wrap" | "unwrap" | "rekey";
  request: string;
  response: string;
  codes: KeyServiceErrorCode[];
};

const BATCH_NOTE =
  `Up to ${MAX_BATCH_ITEMS} items; a larger (or empty) batch is refused whole with \`bad_request\`. ` +
  "Errors that concern the whole call (credential, scope, tenant, revocation, body) answer the whole request with an error status. " +
  "Otherwise the answer is 200 with one result per item, in order: `{ ok: true, … }` or `{ ok: false, error: { code, message } }`, " +
  "so one bad item (malformed: `bad_request`; an EDEK that does not open: `invalid_edek`; an EDEK under a retired tenant key version: `key_version_retired`) does not fail the others.";

const OPERATIONS: Operation[] = [
  {
    path: "/api/v1/wrap",
    operationId: "wrap",
    summary: "Create a data key",
    description:
      "Returns a fresh 256-bit data key (DEK) and the same key wrapped (EDEK) under the tenant's current primary tenant key, bound to the tenant and `metadata.dataLabel`. " +
      "Encrypt the record with the DEK (AES-256-GCM), discard the DEK and store the EDEK beside the record. Requires the `wrap` scope.",
    scope: "wrap",
    request: "WrapRequest",
    response: "WrapResponse",
    codes: COMMON_CODES,
  },
  {
    path: "/api/v1/unwrap",
    operationId: "unwrap",
    summary: "Recover a data key",
    description:
      "Returns the data key inside an EDEK. The tenant id and `metadata.dataLabel` must be the ones the EDEK was wrapped with. " +
      "EDEKs wrapped under an earlier tenant key version still unwrap until the tenant retires that version (then `key_version_retired`). Requires the `unwrap` scope.",
    scope: "unwrap",
    request: "UnwrapRequest",
    response: "UnwrapResponse",
    codes: WITH_EDEK,
  },
  {
    path: "/api/v1/batch-wrap",
    operationId: "batchWrap",
    summary: "Create many data keys",
    description: `Like wrap, for many records in one call; \`metadata\` (actor, reason, request id) applies to every item. ${BATCH_NOTE} Requires the \`wrap\` scope.`,
    scope: "wrap",
    request: "BatchWrapRequest",
    response: "BatchWrapResponse",
    codes: COMMON_CODES,
  },
  {
    path: "/api/v1/batch-unwrap",
    operationId: "batchUnwrap",
    summary: "Recover many data keys",
    description: `Like unwrap, for many EDEKs in one call; \`metadata\` (actor, reason, request id) applies to every item. ${BATCH_NOTE} Requires the \`unwrap\` scope.`,
    scope: "unwrap",
    request: "BatchUnwrapRequest",
    response: "BatchUnwrapResponse",
    codes: COMMON_CODES,
  },
  {
    path: "/api/v1/rekey",
    operationId: "rekey",
    summary: "Re-wrap an EDEK under the current primary key",
    description:
      "Returns the same data key wrapped under the tenant's current tenant key version, and that version (for rotation: rekey stored EDEKs until the old version's counts on the tenant's versions page reach zero, then the tenant can retire it). " +
      "The data key itself does not change, so records need not be re-encrypted; the DEK is never returned. An EDEK under a retired version is refused with `key_version_retired`. Requires the `rekey` scope.",
    scope: "rekey",
    request: "RekeyRequest",
    response: "RekeyResponse",
    codes: WITH_EDEK,
  },
  {
    path: "/api/v1/batch-rekey",
    operationId: "batchRekey",
    summary: "Re-wrap many EDEKs under the current primary key",
    description: `Like rekey, for many EDEKs in one call (a re-key job's unit of work); every item answers the version it moved to. \`metadata\` (actor, reason, request id) applies to every item. ${BATCH_NOTE} Requires the \`rekey\` scope.`,
    scope: "rekey",
    request: "BatchRekeyRequest",
    response: "BatchRekeyResponse",
    codes: COMMON_CODES,
  },
];

const DESCRIPTION = `The key service of Custody: the vendor's application asks it to wrap and unwrap data keys under a tenant's key, which lives in the tenant's own KMS.

Every call is authenticated with a service credential (\`Authorization: Bearer csk_…\`), checked against the credential's scopes and optional tenant restriction, and recorded in the tenant's audit trail (with the request's metadata) before the answer is sent. A tenant that revokes access is refused at once with \`access_revoked\`.

**Encoding.** JSON bodies of at most ${MAX_BODY_BYTES} bytes. Binary values (DEKs, EDEKs) are standard base64 with padding. Batches hold at most ${MAX_BATCH_ITEMS} items.

**EDEK format.** An EDEK is opaque to the caller: store it as returned and pass it back unchanged. It is versioned (a leading format version, so later formats can coexist), names the tenant key it is wrapped under (so EDEKs from before a rotation keep working), and is authenticated with AES-256-GCM whose additional data binds the tenant id and the data label. An EDEK therefore unwraps only for the tenant and the data label it was created for; one moved to another tenant or label, or altered in any byte, is refused with \`invalid_edek\`.

**Errors.** Every error answers \`{ "error": { "code", "message" } }\` with the status listed per operation; the message is plain language and never contains key material. \`kms_unreachable\`, \`kms_throttled\` and \`unavailable\` (503) mean nothing was done: retry after the \`Retry-After\` seconds. \`rate_limited\` (429) answers an address, or a credential id, with too many failed authentications in a window: fix the credential, then retry after \`Retry-After\`. Any path not listed here answers 404 \`not_found\`. Every response carries an \`X-Request-Id\` header, also recorded in the audit event.`;

const healthSchema = (status: string) => ({
  type: "object",
  properties: { status: { const: status } },
  required: ["status"],
  additionalProperties: false,
});

export function buildOpenApiDocument(): object {
  const paths: Record<string, Json> = {};
  for (const op of OPERATIONS) {
    paths[op.path] = {
      post: {
        operationId: op.operationId,
        summary: op.summary,
        description: op.description,
        tags: ["keys"],
        security: [{ serviceToken: [] }],
        "x-custody-scope": op.scope,
        requestBody: { required: true, content: { "application/json": { schema: ref(op.request) } } },
        responses: {
          "200": {
            description: "Done; the event is in the tenant's audit trail.",
            headers: { "X-Request-Id": { $ref: "#/components/headers/RequestId" } },
            content: { "application/json": { schema: ref(op.response) } },
          },
          ...errorResponses(op.codes),
        },
      },
    };
  }
  paths["/api/v1/openapi.json"] = {
    get: {
      operationId: "getOpenApiDocument",
      summary: "This document",
      tags: ["meta"],
      security: [],
      responses: {
        "200": { description: "The OpenAPI 3.1 document of the key service.", content: { "application/json": { schema: { type: "object" } } } },
      },
    },
  };
  paths["/api/v1/health"] = {
    get: {
      operationId: "getHealth",
      summary: "Liveness for load balancers",
      description: "`ok` while this instance hears revocations from the database; `degraded` (503) while it does not, so a load balancer can take it out of rotation.",
      tags: ["meta"],
      security: [],
      responses: {
        "200": { description: "Serving.", content: { "application/json": { schema: healthSchema("ok") } } },
        "503": { description: "Not hearing revocations; do not route traffic here.", content: { "application/json": { schema: healthSchema("degraded") } } },
      },
    },
  };

  return {
    openapi: "3.1.0",
    info: { title: "Custody key service", version: "1.0.0", description: DESCRIPTION, license: { name: "Apache-2.0", identifier: "Apache-2.0" } },
    tags: [
      { name: "keys", description: "Wrap, unwrap and rekey data keys under a tenant's key." },
      { name: "meta", description: "About the API itself." },
    ],
    security: [{ serviceToken: [] }],
    paths,
    components: {
      securitySchemes: {
        serviceToken: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "csk_<32 hex>_<43 base64url>",
          description:
            "A service credential created by a vendor admin in the console (shown once). It carries scopes (`wrap`, `unwrap`, `rekey`) and may be restricted to one tenant.",
        },
      },
      headers: {
        RequestId: { description: "The id of this request, as recorded in the audit event.", schema: { type: "string" } },
        RetryAfter: { description: "Seconds to wait before retrying.", schema: { type: "integer", minimum: 0 } },
      },
      schemas: { ...requestSchemas(), ...responseSchemas() },
    },
  };
}
