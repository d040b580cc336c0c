import { describe, expect, it } from "vitest";
import { encodeCursor, filterParams, MAX_PAGE_SIZE, parseAuditQuery } from "./filter";

const parse = (query: string) => parseAuditQuery(new URLSearchParams(query));

describe("the audit trail's URL filters", () => {
  it("reads every filter and writes it back in a stable order", () => {
    const { query, problems } = parse(
      "q=invoice&to=2026-11-29T12:00:00Z&from=2026-11-28T00:00:00%2B01:00&request=req-1&object=obj-9&label=payroll&key=0B7D1E3A-1111-4222-8333-944445555666&actor=app&outcome=denied&action=key.unwrap",
    );
    expect(problems).toEqual([]);
    expect(query.filter).toEqual({
      action: "key.unwrap",
      outcome: "denied",
      actor: "app",
      key: "0b7d1e3a-1111-4222-8333-944445555666",
      label: "payroll",
      object: "obj-9",
      request: "req-1",
      from: new Date("2026-11-27T23:00:00Z"),
      to: new Date("2026-11-29T12:00:00Z"),
      q: "invoice",
    });
    expect(filterParams(query.filter).toString()).toBe(
      "action=key.unwrap&outcome=denied&actor=app&key=0b7d1e3a-1111-4222-8333-944445555666&label=payroll&object=obj-9&request=req-1&from=2026-11-27T23%3A00%3A00.000Z&to=2026-11-29T12%3A00%3A00.000Z&q=invoice",
    );
  });

  it("ignores empty fields and accepts 'error' for failure", () => {
    const { query, problems } = parse("action=&actor=%20%20&outcome=ERROR");
    expect(problems).toEqual([]);
    expect(query.filter).toEqual({ outcome: "failure" });
  });

  it("refuses malformed values with a message per field, and searches nothing", () => {
    const { problems } = parse(
      `action=key.steal&outcome=maybe&key=not-a-key&q=ab&from=yesterday&to=2026-13-45T00:00Z&actor=${"x".repeat(201)}&label=%E2%80%AEevil`,
    );
    expect(Object.fromEntries(problems.map((p) => [p.field, p.message]))).toEqual({
      action: "Not an action the trail records.",
      outcome: "Choose success, denied or failure.",
      key: "Not a key id.",
      q: "Search for at least three characters.",
      from: "Give a date and time with its time zone, e.g. 2026-11-29T14:30:00Z.",
      to: "Give a date and time with its time zone, e.g. 2026-11-29T14:30:00Z.",
      actor: "Use at most 200 characters.",
      label: "Contains characters that cannot appear in the trail.",
    });
  });

  it("refuses a reversed or empty time range", () => {
    expect(parse("from=2026-11-29T12:00:00Z&to=2026-11-29T11:00:00Z").problems).toEqual([
      { field: "to", message: "The end of the time range must be after its start." },
    ]);
    expect(parse("from=2026-11-29T12:00:00Z&to=2026-11-29T12:00:00Z").problems).toHaveLength(1);
  });

  it("refuses numbers and dates the database could not hold, instead of failing there", () => {
    expect(parse("before=1_9999999999999999999").problems.map((p) => p.field)).toEqual(["before"]);
    expect(parse("before=1_9223372036854775807").problems).toEqual([]);
    expect(parse("seq=9223372036854775808").problems.map((p) => p.field)).toEqual(["seq"]);
    expect(parse("from=0000-01-01").problems.map((p) => p.field)).toEqual(["from"]);
    expect(parse("to=1969-12-31T23:59:59Z").problems.map((p) => p.field)).toEqual(["to"]);
  });

  it("refuses a time without a zone rather than guessing one", () => {
    expect(parse("from=2026-11-29T12:00").problems.map((p) => p.field)).toEqual(["from"]);
    expect(parse("from=2026-11-29").query.filter.from).toEqual(new Date("2026-11-29T00:00:00Z"));
  });

  it("clamps the page size instead of refusing it", () => {
    expect(parse("limit=100000000").query.limit).toBe(MAX_PAGE_SIZE);
    expect(parse("limit=0").query.limit).toBe(1);
    expect(parse("limit=lots").query.limit).toBe(50);
    expect(parse("").query.limit).toBe(50);
  });

  it("round-trips a cursor and refuses a damaged one", () => {
    const cursor = { at: new Date("2026-11-29T10:11:12.345Z"), seq: 9_007_199_254_740_993n };
    expect(parse(`before=${encodeCursor(cursor)}`).query.before).toEqual(cursor);
    for (const bad of ["abc", "1_", "_5", "1732.5_3", "99999999999999999_1", "1_-4", "1_2_3"]) {
      expect(parse(`before=${encodeURIComponent(bad)}`).problems.map((p) => p.field), bad).toEqual(["before"]);
    }
  });

  it("takes the first of repeated parameters", () => {
    expect(parseAuditQuery({ outcome: ["denied", "success"] }).query.filter.outcome).toBe("denied");
  });
});
