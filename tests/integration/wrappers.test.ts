import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { VENDOR_CHAIN } from "@/lib/audit";
import { grantVendorAdmins } from "@/lib/auth/grant-vendor-admins";
import type { Principal } from "@/lib/auth/principal";
import type { Caller } from "@/lib/authz";
import { disconnectDb, getDb } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { authedAction } from "@/lib/http/authed-action";
import type { RequestMeta } from "@/lib/http/request-meta";
import { authedRoute, slugParams } from "@/lib/http/route";
import { log } from "@/lib/log";
import { addMember, createTenant } from "@/lib/tenants";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

// The wrappers every server action and console route handler goes through (lib/http), with
// the session read stubbed and everything else real: the signed-out, bad-input, cross-site,
// non-member and unexpected-error answers, and that a refusal decided by the data layer keeps
// its audit (an outsider's on the vendor chain with ids only, a vendor admin's on the tenant's).

const principal = vi.hoisted(() => ({ current: null as null | { userId: string; email: string } }));
vi.mock("@/lib/auth/principal", () => ({
  getPrincipal: async (): Promise<Principal | null> =>
    principal.current ? { ...principal.current, name: null, isVendorAdmin: false, tenants: [] } : null,
  callerFor: async (p: Principal): Promise<Caller> => ({ userId: p.userId, request }),
}));
// Server actions revalidate Next's cache, which exists only inside Next.
vi.mock("next/cache", () => ({ revalidatePath: () => undefined }));

const request: RequestMeta = { sourceIp: "198.51.100.7", userAgent: "vitest wrappers", requestId: "req-wrappers-1" };
let database: TestDatabase;
let acme: { id: string; admin: string; auditor: string };
let stark: { admin: string };
let vendor: string;

async function userId(email: string): Promise<string> {
  return (await getDb().user.findUniqueOrThrow({ where: { email } })).id;
}

function form(values: Record<string, string>): FormData {
  const data = new FormData();
  for (const [k, v] of Object.entries(values)) data.set(k, v);
  return data;
}

const as = (email: string, id: string) => (principal.current = { userId: id, email });

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  await grantVendorAdmins(["ops@vendor.example"]);
  vendor = await userId("ops@vendor.example");
  const vendorCaller = { userId: vendor, request };
  const a = await createTenant(vendorCaller, { name: "Acme", slug: "acme", adminEmail: "ada@acme.example" });
  const admin = await userId("ada@acme.example");
  await addMember({ userId: admin, request }, { tenantId: a.tenantId, email: "audrey@acme.example", role: "auditor" });
  acme = { id: a.tenantId, admin, auditor: await userId("audrey@acme.example") };
  await createTenant(vendorCaller, { name: "Stark", slug: "stark", adminEmail: "tony@stark.example" });
  stark = { admin: await userId("tony@stark.example") };
});

afterAll(async () => {
  await disconnectDb();
  await database?.drop();
});

beforeEach(() => {
  principal.current = null;
  vi.restoreAllMocks();
});

describe("authedAction", () => {
  const ran = vi.fn();
  const echo = authedAction(z.object({ name: z.string().min(2, "Use at least 2 characters.") }), async (input, { caller }) => {
    ran(input, caller.userId);
    return { ok: true, message: `hello ${input.name}`, data: { length: input.name.length } };
  });

  it("answers a signed-out submission unauthenticated without running the handler", async () => {
    ran.mockClear();
    const result = await echo(null, form({ name: "Ada" }));
    expect(result).toMatchObject({ ok: false, code: "unauthenticated", message: "Your session has ended. Sign in again.", values: { name: "Ada" } });
    expect(ran).not.toHaveBeenCalled();
  });

  it("answers bad input with per-field messages, echoes the form and runs nothing", async () => {
    ran.mockClear();
    as("ada@acme.example", acme.admin);
    const result = await echo(null, form({ name: "A" }));
    expect(result).toMatchObject({ ok: false, code: "bad_request", fieldErrors: { name: ["Use at least 2 characters."] }, values: { name: "A" } });
    expect(ran).not.toHaveBeenCalled();
    const ok = await echo(null, form({ name: "Ada" }));
    expect(ok).toMatchObject({ ok: true, message: "hello Ada", data: { length: 3 } });
    expect(ran).toHaveBeenCalledWith({ name: "Ada" }, acme.admin);
  });

  it("maps an unexpected error to a generic message, logged, never its text", async () => {
    const error = vi.spyOn(log, "error").mockImplementation(() => undefined);
    as("ada@acme.example", acme.admin);
    const broken = authedAction(z.object({}), async () => {
      throw new TypeError("secret detail");
    });
    const result = await broken(null, form({}));
    expect(result).toMatchObject({ ok: false, code: "internal" });
    expect(JSON.stringify(result)).not.toContain("secret detail");
    expect(error).toHaveBeenCalledWith({ errorName: "TypeError", errorMessage: "secret detail" }, "server action failed");
  });

  it("leaves the role to the data layer, which audits an outsider on the vendor chain with ids only and a vendor admin on the tenant's", async () => {
    const { addMemberAction } = await import("@/app/(tenant)/t/[slug]/members/actions");
    const attempt = { tenantId: acme.id, email: "mallory-chosen-words@evil.example", role: "admin" };
    const before = await getDb().auditEvent.count();

    as("tony@stark.example", stark.admin);
    expect(await addMemberAction(null, form(attempt))).toMatchObject({ ok: false, code: "forbidden" });
    const outsider = await getDb().auditEvent.findFirstOrThrow({ where: { actorId: stark.admin, outcome: "DENIED" } });
    expect(outsider.chain).toBe(VENDOR_CHAIN);
    expect(JSON.stringify({ ...outsider, seq: String(outsider.seq), id: String(outsider.id) })).not.toContain("mallory");
    expect(outsider.details).toEqual({ reason: "not a member of this tenant", targetTenantId: acme.id });

    as("ops@vendor.example", vendor);
    expect(await addMemberAction(null, form(attempt))).toMatchObject({ ok: false, code: "forbidden" });
    const staff = await getDb().auditEvent.findFirstOrThrow({ where: { actorId: vendor, outcome: "DENIED" } });
    expect(staff.chain).toBe(acme.id);
    expect(staff.actorType).toBe("VENDOR_ADMIN");

    as("audrey@acme.example", acme.auditor);
    expect(await addMemberAction(null, form(attempt))).toMatchObject({ ok: false, code: "forbidden" });
    const auditor = await getDb().auditEvent.findFirstOrThrow({ where: { actorId: acme.auditor, outcome: "DENIED" } });
    expect(auditor.chain).toBe(acme.id);

    expect(await getDb().auditEvent.count()).toBe(before + 3);
    expect(await getDb().membership.count({ where: { user: { email: attempt.email } } })).toBe(0);
  });
});

describe("refused actions, rate-limited per person", () => {
  afterEach(() => {
    delete process.env.CONSOLE_REFUSALS_PER_USER;
    delete process.env.CONSOLE_REFUSAL_WINDOW_SECONDS;
  });

  it("stops a person refused too often before anything runs, records that once, and leaves everyone else alone", async () => {
    process.env.CONSOLE_REFUSALS_PER_USER = "3";
    process.env.CONSOLE_REFUSAL_WINDOW_SECONDS = "600";
    const { addMemberAction } = await import("@/app/(tenant)/t/[slug]/members/actions");
    const { tenantId: wayne } = await createTenant({ userId: vendor, request }, { name: "Wayne", slug: "wayne", adminEmail: "bruce@wayne.example" });
    const bruce = await userId("bruce@wayne.example");
    const attempt = { tenantId: acme.id, email: "joker@evil.example", role: "admin" };
    const eventsOf = () => getDb().auditEvent.findMany({ where: { actorId: bruce }, orderBy: { id: "asc" } });

    as("bruce@wayne.example", bruce);
    const results = [];
    for (let i = 0; i < 7; i++) results.push(await addMemberAction(null, form(attempt)));
    expect(results.map((r) => (r.ok ? "ok" : r.code))).toEqual([
      ...Array(4).fill("forbidden"),
      ...Array(3).fill("rate_limited"),
    ]);
    expect(results[4]).toMatchObject({ message: expect.stringMatching(/^Too many refused actions\. Try again in \d+ s\.$/) });

    // Four refusals decided and audited (the fourth crosses the limit), one crossing recorded, nothing after.
    const events = await eventsOf();
    expect(events.map((e) => [e.action, e.outcome, e.chain])).toEqual([
      ...Array(4).fill(["member.invited", "DENIED", VENDOR_CHAIN]),
      ["console.refusals_rate_limited", "DENIED", VENDOR_CHAIN],
    ]);
    expect(events.at(-1)!.details).toEqual({ refusals: 4, windowSeconds: 600 });

    // Blocked means blocked: even an action they may take in their own tenant waits for the window.
    const own = await addMemberAction(null, form({ tenantId: wayne, email: "alfred@wayne.example", role: "auditor" }));
    expect(own).toMatchObject({ ok: false, code: "rate_limited" });
    // Someone else is not affected.
    as("ada@acme.example", acme.admin);
    expect(await addMemberAction(null, form({ tenantId: acme.id, email: "new-hire@acme.example", role: "auditor" }))).toMatchObject({ ok: true });
  });
});

describe("authedRoute", () => {
  const params = (values: Record<string, string>) => ({ params: Promise.resolve(values) });
  const body = async (response: Response) => ({ status: response.status, body: (await response.json()) as unknown, cache: response.headers.get("cache-control") });

  it("refuses a cross-site POST with 403 before anything else", async () => {
    const { POST } = await import("@/app/(tenant)/t/[slug]/audit/integrity/verify/route");
    as("ada@acme.example", acme.admin);
    const crossSite = new Request("http://localhost/t/acme/audit/integrity/verify", {
      method: "POST",
      headers: { origin: "http://evil.example", "x-forwarded-host": "localhost" },
    });
    expect(await body(await POST(crossSite, params({ slug: "acme" })))).toEqual({
      status: 403,
      body: { error: { code: "forbidden", message: "Cross-site request refused." } },
      cache: "no-store",
    });
    expect(await getDb().auditEvent.count({ where: { chain: acme.id, action: "audit.integrity_verified" } })).toBe(0);
  });

  it("answers anyone but the tenant's members, and a path that names nothing, with the same 404", async () => {
    const { GET } = await import("@/app/(tenant)/t/[slug]/audit/integrity/checkpoints/[id]/route");
    const notFound = { status: 404, body: { error: { code: "not_found", message: "Not found." } }, cache: "no-store" };
    const get = (slug: string, id: string) => GET(new Request(`http://localhost/t/${slug}/audit/integrity/checkpoints/${id}`), params({ slug, id }));
    expect(await body(await get("acme", "1"))).toEqual(notFound);
    as("tony@stark.example", stark.admin);
    expect(await body(await get("acme", "1"))).toEqual(notFound);
    expect(await body(await get("no-such-tenant", "1"))).toEqual(notFound);
    as("audrey@acme.example", acme.auditor);
    for (const id of ["0", "abc", "99999999999999999999"]) expect(await body(await get("acme", id))).toEqual(notFound);
  });

  it("answers signed out with 401, a refusal with its code, and anything unexpected with a logged generic 500", async () => {
    const error = vi.spyOn(log, "error").mockImplementation(() => undefined);
    const route = authedRoute(
      { name: "test route", access: "signed-in", signedOutMessage: "Sign in first.", params: slugParams },
      async ({ params: { slug } }) => {
        if (slug === "taken") throw new AppError("conflict", "That is taken.");
        if (slug === "busy") throw new AppError("unavailable", "Try again soon.");
        throw new RangeError("secret detail");
      },
    );
    const call = (slug: string) => route(new Request(`http://localhost/x/${slug}`), params({ slug }));
    expect(await body(await call("taken"))).toEqual({ status: 401, body: { error: { code: "unauthenticated", message: "Sign in first." } }, cache: "no-store" });
    as("ada@acme.example", acme.admin);
    expect(await body(await call("taken"))).toEqual({ status: 409, body: { error: { code: "conflict", message: "That is taken." } }, cache: "no-store" });
    const busy = await call("busy");
    expect(busy.status).toBe(503);
    expect(busy.headers.get("retry-after")).toBe("10");
    const broken = await call("other");
    expect(broken.status).toBe(500);
    expect(await broken.text()).not.toContain("secret detail");
    expect(error).toHaveBeenCalledWith({ route: "test route", errorName: "RangeError", errorMessage: "secret detail" }, "route handler failed");
  });
});
