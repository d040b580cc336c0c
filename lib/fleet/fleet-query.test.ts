import { describe, expect, it } from "vitest";
import { parseFleetQuery } from "./fleet-query";

describe("parseFleetQuery", () => {
  // Found by tests/integration/hostile-input-query.test.ts: `?q=%00` reached PostgreSQL, which
  // refused the NUL, and the fleet page answered 500.
  it("ignores, and names, a search with characters no tenant name holds", () => {
    for (const q of ["\u0000", "acme\u0000", "a\u0007b", "in\u200bvoices", "a\u2028b"]) {
      expect(parseFleetQuery({ q, sort: "name" }), JSON.stringify(q)).toEqual({ query: { q: "", sort: "name", page: 1 }, ignored: ["q"] });
    }
  });

  it("keeps a search in visible characters, trimmed", () => {
    expect(parseFleetQuery({ q: "  Vixen Holdings ü " }).query.q).toBe("Vixen Holdings ü");
  });
});
