import { describe, expect, it } from "vitest";
import { batchUnwrapItemSchema, batchWrapItemSchema, callMetadataSchema, metadataSchema } from "./keyservice";

// Key-service request metadata ends up in the audit trail as text people read: what is there
// must be what it looks like.

const INVISIBLE: Array<[string, string]> = [
  ["U+200B zero width space", "\u200b"],
  ["U+200C zero width non-joiner", "\u200c"],
  ["U+200D zero width joiner", "\u200d"],
  ["U+200E left-to-right mark", "\u200e"],
  ["U+200F right-to-left mark", "\u200f"],
  ["U+061C Arabic letter mark", "\u061c"],
  ["U+FEFF byte order mark", "\ufeff"],
  ["U+00AD soft hyphen", "\u00ad"],
  ["U+2060 word joiner", "\u2060"],
  ["U+202E right-to-left override", "\u202e"],
  ["U+2066 left-to-right isolate", "\u2066"],
  ["U+2028 line separator", "\u2028"],
  ["U+2029 paragraph separator", "\u2029"],
];

describe("key-service metadata text", () => {
  it.each(INVISIBLE)("refuses %s in every text field", (_name, char) => {
    const text = `invo${char}ices`;
    for (const field of ["dataLabel", "objectId", "actor", "reason"] as const) {
      const parsed = metadataSchema.safeParse({ dataLabel: "invoices", [field]: text });
      expect(parsed.success, field).toBe(false);
      expect(parsed.error?.issues[0]?.message).toMatch(new RegExp(`^${field} must not contain control characters or invisible formatting characters\\.$`));
    }
    expect(callMetadataSchema.safeParse({ reason: text }).success).toBe(false);
    expect(batchWrapItemSchema.safeParse({ dataLabel: text }).success).toBe(false);
    expect(batchUnwrapItemSchema.safeParse({ edek: "AAAA", dataLabel: "invoices", objectId: text }).success).toBe(false);
  });

  it("accepts visible text in any script, with spaces and emoji", () => {
    for (const text of ["invoices", "Rechnungen für März", "請求書", "فواتير", "render invoice #42 🧾", "a b\u00a0c"]) {
      expect(metadataSchema.safeParse({ dataLabel: text, objectId: text, actor: text, reason: text }).success, text).toBe(true);
    }
  });
});
