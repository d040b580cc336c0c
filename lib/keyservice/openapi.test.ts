import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { KEY_SERVICE_ERRORS, MAX_BATCH_ITEMS } from "@/lib/validation/keyservice";
import { buildOpenApiDocument } from "./openapi";

type Json = Record<string, unknown>;
const doc = buildOpenApiDocument() as Json;
const paths = doc.paths as Record<string, Record<string, Json>>;

/** Follows a local JSON pointer (`#/a/b`) through the document; undefined when it leads nowhere. */
function resolve(pointer: string): unknown {
  if (!pointer.startsWith("#/")) return undefined;
  let node: unknown = doc;
  for (const raw of pointer.slice(2).split("/")) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, key)) return undefined;
    node = (node as Json)[key];
  }
  return node;
}

function collectRefs(node: unknown, into: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) collectRefs(item, into);
  else if (node && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") into.push(value);
      else collectRefs(value, into);
    }
  }
  return into;
}

const OPERATIONS = ["/api/v1/wrap", "/api/v1/unwrap", "/api/v1/batch-wrap", "/api/v1/batch-unwrap", "/api/v1/rekey", "/api/v1/batch-rekey"];

describe("the key service's OpenAPI document", () => {
  it("is what lib/keyservice/openapi.json holds (run `npm run openapi` after changing the contract)", () => {
    const committed: unknown = JSON.parse(readFileSync(path.join(__dirname, "openapi.json"), "utf8"));
    expect(committed, "lib/keyservice/openapi.json is stale: run `npm run openapi` and commit the result").toEqual(
      JSON.parse(JSON.stringify(doc)),
    );
  });

  it("is OpenAPI 3.1 with a response for every operation", () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(Object.keys(paths).sort()).toEqual([...OPERATIONS, "/api/v1/openapi.json", "/api/v1/health"].sort());
    for (const [route, item] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(item)) {
        expect(["get", "post"], `${route}`).toContain(method);
        expect(Object.keys(operation.responses as Json).length, `${method} ${route} has no responses`).toBeGreaterThan(0);
        expect(operation.responses, `${method} ${route}`).toHaveProperty("200");
      }
    }
  });

  it("resolves every $ref", () => {
    const refs = collectRefs(doc);
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) expect(resolve(ref), `${ref} does not resolve`).toBeDefined();
  });

  it("requires the bearer credential on the operations, but not on the document itself", () => {
    const schemes = (doc.components as Json).securitySchemes as Record<string, Json>;
    expect(schemes.serviceToken).toMatchObject({ type: "http", scheme: "bearer" });
    for (const route of OPERATIONS) expect(paths[route]!.post!.security).toEqual([{ serviceToken: [] }]);
    expect(paths["/api/v1/openapi.json"]!.get!.security).toEqual([]);
    expect(paths["/api/v1/health"]!.get!.security).toEqual([]);
  });

  it("documents every error code of each operation under its HTTP status, with Retry-After on 503 and 429", () => {
    const codesOf = (route: string) => {
      const found: Record<string, number> = {};
      for (const [status, response] of Object.entries(paths[route]!.post!.responses as Record<string, Json>)) {
        if (status === "200") continue;
        const examples = ((response.content as Json)["application/json"] as Json).examples as Json;
        for (const code of Object.keys(examples)) found[code] = Number(status);
        expect(response.description).toEqual(expect.stringContaining(`\`${Object.keys(examples)[0]}\``));
        if (status === "503" || status === "429") expect(response.headers).toHaveProperty("Retry-After");
        else expect(response.headers).not.toHaveProperty("Retry-After");
      }
      return found;
    };
    const expectedStatus = (codes: (keyof typeof KEY_SERVICE_ERRORS)[]) =>
      Object.fromEntries(codes.map((code) => [code, KEY_SERVICE_ERRORS[code].status]));
    const everywhere = (Object.keys(KEY_SERVICE_ERRORS) as (keyof typeof KEY_SERVICE_ERRORS)[]).filter(
      (code) => code !== "not_found" && code !== "invalid_edek" && code !== "key_version_retired",
    );
    // Batches answer a bad EDEK (or one under a retired version) per item, never for the whole call.
    for (const route of ["/api/v1/wrap", "/api/v1/batch-wrap", "/api/v1/batch-unwrap", "/api/v1/batch-rekey"]) expect(codesOf(route)).toEqual(expectedStatus(everywhere));
    for (const route of ["/api/v1/unwrap", "/api/v1/rekey"]) expect(codesOf(route)).toEqual(expectedStatus([...everywhere, "invalid_edek", "key_version_retired"]));
  });

  it("shows request and response bodies as components, including the batch limit and per-item results", () => {
    const schemas = (doc.components as Json).schemas as Record<string, Json>;
    const batch = schemas.BatchUnwrapRequest!.properties as Record<string, Json>;
    expect(batch.items).toMatchObject({ maxItems: MAX_BATCH_ITEMS, minItems: 1, items: { $ref: "#/components/schemas/BatchUnwrapItem" } });
    expect(schemas.BatchUnwrapItem!.required).toEqual(["edek", "dataLabel"]);
    // Batch metadata has a default, so a request without it is valid.
    expect(schemas.BatchWrapRequest!.required).toEqual(["tenantId", "items"]);
    expect(schemas.Metadata!.required).toEqual(["dataLabel"]);
    expect(schemas.WrapResponse!.required).toEqual(["dek", "edek", "tenantKeyId"]);
    expect(JSON.stringify(schemas.BatchWrapResponse)).toContain('"const":false');
    for (const name of Object.keys(schemas)) {
      expect(schemas[name], name).not.toHaveProperty("$schema");
      expect(schemas[name], name).not.toHaveProperty("$id");
    }
    expect(paths["/api/v1/wrap"]!.post!.requestBody).toMatchObject({ content: { "application/json": { schema: { $ref: "#/components/schemas/WrapRequest" } } } });
  });

  it("describes the EDEK format and the limits in words", () => {
    const description = (doc.info as Json).description as string;
    expect(description).toMatch(/versioned/);
    expect(description).toMatch(/tenant id and the data label/);
    expect(description).toContain(String(MAX_BATCH_ITEMS));
  });
});
