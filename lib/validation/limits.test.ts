import { describe, expect, it } from "vitest";
import { createCredentialSchema } from "./credentials";
import { TEXT_LIMITS, limitHint, tooLongMessage } from "./limits";
import { sinkNameSchema } from "./sinks";
import { createTenantSchema, slugSchema } from "./tenants";

// The same limit and the same error for every name field, the limit stated in its help text,
// and over-long input refused (never cut to size).

const names = {
  "a tenant's name": (name: string) => createTenantSchema.safeParse({ name, slug: "acme-x", adminEmail: "a@acme.example" }),
  "a log sink's name": (name: string) => sinkNameSchema.safeParse(name),
  "a service credential's name": (name: string) => createCredentialSchema.safeParse({ name, scopes: ["wrap"], tenantId: "" }),
};

describe("text-field limits", () => {
  for (const [what, parse] of Object.entries(names)) {
    it(`${what}: up to ${TEXT_LIMITS.name} characters kept whole, one more refused with the shared message`, () => {
      const longest = "n".repeat(TEXT_LIMITS.name);
      const ok = parse(longest);
      expect(ok.success).toBe(true);
      expect(JSON.stringify(ok.data)).toContain(longest);
      const refused = parse(`${longest}n`);
      expect(refused.success).toBe(false);
      expect(refused.error!.issues.map((i) => i.message)).toContain(tooLongMessage(TEXT_LIMITS.name));
      // 500 characters are refused too, not shortened.
      expect(parse("n".repeat(500)).success).toBe(false);
    });
  }

  it("a tenant's URL name: its own limit, the same message", () => {
    expect(slugSchema.safeParse("a".repeat(TEXT_LIMITS.slug)).success).toBe(true);
    const refused = slugSchema.safeParse("a".repeat(TEXT_LIMITS.slug + 1));
    expect(refused.error?.issues[0]?.message).toBe(tooLongMessage(TEXT_LIMITS.slug));
  });

  it("states the limit in the help text", () => {
    expect(limitHint(100)).toBe("At most 100 characters.");
    expect(limitHint(40, "Used in console URLs.")).toBe("Used in console URLs. At most 40 characters.");
  });
});
