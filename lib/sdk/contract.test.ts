import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import * as contract from "@/lib/validation/keyservice";
import { API_ERROR_CODES, type ApiErrorCode, MAX_BATCH_ITEMS, REFUSED_BEFORE_ACTING } from "./index";
import type * as sdk from "./index";

// The SDK writes the wire contract out instead of importing the server's zod schemas (so it
// runs with Node alone); these checks keep the two copies in step. The type checks run in
// `tsc --noEmit`; the rest here.

type Assignable<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Same properties, each of a mutually assignable type (an extra optional property counts). */
type Same<A, B> = Assignable<A, B> extends true ? Assignable<keyof A, keyof B> : false;
const typesAgree: [
  Same<sdk.Metadata, contract.Metadata>,
  Same<sdk.CallMetadata, contract.CallMetadata>,
  Same<sdk.BatchWrapItem, contract.BatchWrapItem>,
  Same<sdk.BatchUnwrapItem, contract.BatchUnwrapItem>,
  Same<ApiErrorCode, contract.KeyServiceErrorCode>,
  Same<sdk.RekeyedKey, contract.RekeyResponse>,
] = [true, true, true, true, true, true];

describe("the SDK's copy of the contract", () => {
  it("has the key service's error codes, limits and retry-safe refusals", () => {
    expect(typesAgree.every(Boolean)).toBe(true);
    expect([...API_ERROR_CODES].sort()).toEqual(Object.keys(contract.KEY_SERVICE_ERRORS).sort());
    expect(MAX_BATCH_ITEMS).toBe(contract.MAX_BATCH_ITEMS);
    const refusedWith503 = Object.entries(contract.KEY_SERVICE_ERRORS).filter(([, e]) => e.status === 503).map(([code]) => code);
    expect([...REFUSED_BEFORE_ACTING].sort()).toEqual(refusedWith503.sort());
  });

  it("imports nothing but Node built-ins and its own files", () => {
    const dir = __dirname;
    const sources = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));
    expect(sources).toContain("index.ts");
    for (const file of sources) {
      const text = readFileSync(path.join(dir, file), "utf8");
      for (const [, specifier] of text.matchAll(/(?:from|import)\s+["']([^"']+)["']/g)) {
        expect(specifier!.startsWith("node:") || specifier!.startsWith("./"), `${file} imports ${specifier}`).toBe(true);
      }
    }
  });
});
