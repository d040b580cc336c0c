import path from "node:path";
import fc from "fast-check";
import { isValidElement, type ReactElement } from "react";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AuditFilterForm } from "@/components/audit/audit-filter-form";
import { LiveAuditTable } from "@/components/audit/live-audit-table";
import { AuditTable } from "@/components/audit-table";
import { Alert } from "@/components/ui/alert";
import { FleetTable } from "@/app/(vendor)/vendor/_components/fleet-table";
import { SignInButton } from "@/app/(auth)/signin/signin-button";
import { AUDIT_ACTION_LIST } from "@/lib/audit/catalogue";
import type { Principal } from "@/lib/auth/principal";
import { cancelledSignInRedirect } from "@/lib/auth/cancelled-sign-in";
import type { Caller } from "@/lib/authz";
import { disconnectDb, getDb } from "@/lib/db";
import { hashSessionToken } from "@/lib/db/session-token";
import { FLEET_SORTS, FLEET_STATES, fleetQuerySchema } from "@/lib/fleet/fleet-query";
import type { RequestMeta } from "@/lib/http/request-meta";
import { queryStringReaders } from "../helpers/app-surface";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { fuzzParameters, hostileQuery, hostileString } from "../helpers/hostile";
import { brokenChains, buildWorld, chainHead, type Person, type World } from "../helpers/isolation-world";

// Hostile input for every query string the console reads: each page and route handler in app/
// that reads its URL's parameters (found on disk, so a new one without a case fails below),
// called in-process on a real database by the person it is for, with at least 1,000 generated
// query strings per run: each known parameter valid, hostile (control and invisible
// characters, lone surrogates, injections, overlong text), repeated or missing, plus unknown
// parameters and strings that break decoders. Pages are rendered as Next renders a server
// component tree (each async server component awaited; client components get their props),
// route handlers answer a Request. Each answer: no exception and no 5xx; a bad value either
// named with a clear message (the audit trail's filters, the export, the live view) or ignored
// and said so (the fleet table), never internal text; the sign-in page never sends anyone off
// Custody's origin; an export or live view refused writes nothing; the chains verify afterwards.

const principal = vi.hoisted(() => ({ current: null as null | { userId: string; email: string; isVendorAdmin: boolean; slug?: string } }));
const session = vi.hoisted(() => ({ token: null as string | null }));
vi.mock("@/lib/auth/principal", async () => {
  const { redirect } = await import("next/navigation");
  const getPrincipal = async (): Promise<Principal | null> => {
    const p = principal.current;
    if (!p) return null;
    return {
      userId: p.userId,
      email: p.email,
      name: null,
      isVendorAdmin: p.isVendorAdmin,
      tenants: p.slug ? [{ tenantId: "t", slug: p.slug, name: p.slug, role: "admin" }] : [],
    };
  };
  const requirePrincipal = async (): Promise<Principal> => (await getPrincipal()) ?? redirect("/signin");
  return {
    getPrincipal,
    requirePrincipal,
    requireVendorAdmin: async (): Promise<Principal> => {
      const p = await requirePrincipal();
      return p.isVendorAdmin ? p : redirect("/");
    },
    callerFor: async (p: Principal): Promise<Caller> => ({ userId: p.userId, request }),
    homePathOf: (p: Principal) => (p.isVendorAdmin ? "/vendor" : p.tenants[0] ? `/t/${p.tenants[0].slug}` : "/no-access"),
  };
});
vi.mock("next/headers", () => ({
  cookies: async () => ({ get: (name: string) => (name === "next-auth.session-token" && session.token ? { name, value: session.token } : undefined) }),
  headers: async () => new Headers(),
}));
vi.mock("next/cache", () => ({ revalidatePath: () => undefined }));

const request: RequestMeta = { sourceIp: "198.51.100.78", userAgent: "vitest hostile query", requestId: "req-hostile-query" };
const OWN_ORIGIN = "http://custody.invalid";
const LEAKY = /\n\s+at |TypeError|ReferenceError|Prisma|ECONN|SQLSTATE|syntax error|violates|invalid input|undefined|\[object /i;

/** A backstop against a hang, not a limit: a thousand renders on a busy two-core machine take minutes. */
const PROPERTY_TIMEOUT_MS = 900_000;

let database: TestDatabase;
let world: World;

// ---------------------------------------------------------------------------------------
// What an attacker puts in a URL.

type Param = [string, string];
type Generators = Record<string, fc.Arbitrary<string>>;

/** Each known parameter: absent or its valid value (mostly), a hostile one, or given twice; then unknown ones and decoder breakers. */
function queryString(valid: Generators): fc.Arbitrary<string> {
  const known = Object.entries(valid).map(([name, good]) =>
    fc.oneof(
      { weight: 8, arbitrary: fc.constant<Param[]>([]) },
      { weight: 8, arbitrary: good.map((v): Param[] => [[name, v]]) },
      { weight: 1, arbitrary: hostileString.map((v): Param[] => [[name, v]]) },
      { weight: 1, arbitrary: fc.tuple(fc.oneof(good, hostileString), fc.oneof(good, hostileString)).map(([a, b]): Param[] => [[name, a], [name, b]]) },
    ),
  );
  const unknown = fc.array(fc.tuple(fc.oneof(hostileString, fc.constantFrom("__proto__", "constructor", "toString", "slug", "tenantId")), hostileString), { maxLength: 2 });
  return fc
    .tuple(
      fc.tuple(...known),
      fc.oneof({ weight: 5, arbitrary: fc.constant<Param[]>([]) }, { weight: 1, arbitrary: unknown }),
      fc.oneof({ weight: 2, arbitrary: fc.constant("") }, { weight: 1, arbitrary: hostileQuery }),
    )
    .map(([parts, extra, raw]) => {
      const search = new URLSearchParams([...parts.flat(), ...extra]).toString();
      const tail = raw.replace(/^\?/, "");
      return [search, tail].filter(Boolean).join("&");
    });
}

/** The page's `searchParams` as Next hands it over: one string per name, an array for a repeated one. */
function nextSearchParams(query: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [k, v] of new URLSearchParams(query)) {
    const had = out[k];
    out[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
  }
  return out;
}

const isoTime = fc.date({ min: new Date("1960-01-01"), max: new Date("2200-01-01"), noInvalidDate: true }).map((d) => d.toISOString());
const auditFilter = (w: World): Generators => ({
  action: fc.oneof(fc.constantFrom(...AUDIT_ACTION_LIST), fc.constantFrom("key.unwrap ", "KEY.WRAP")),
  outcome: fc.constantFrom("success", "denied", "failure", "error", "DENIED", " denied "),
  actor: fc.constantFrom(w.victim.adminPerson.email, w.victim.credentialName, w.vendor.email, "adm"),
  key: fc.oneof(fc.constant(w.victim.kmsKeyId), fc.constant(w.other.kmsKeyId), fc.uuid()),
  label: fc.constantFrom("invoices", "payroll"),
  object: fc.oneof(fc.constant(w.victim.sinkId), fc.uuid()),
  request: fc.constantFrom("req-hostile-query", "req-"),
  from: fc.oneof(isoTime, fc.constantFrom("2026-01-01", "2026-02-30", "+275760-09-13T00:00:00.000Z", "9999-12-31T23:59:59Z")),
  to: fc.oneof(isoTime, fc.constantFrom("2030-01-01", "1970-01-01T00:00:00Z")),
  q: fc.constantFrom("inv", "vixen", "ad", "%", "_", "\\"),
});
const seqValue = fc.oneof(fc.nat({ max: 400 }).map(String), fc.constantFrom("0", "-1", "9223372036854775807", "9223372036854775808", "1e3", "0x10"));
const pageParams = (w: World): Generators => ({
  ...auditFilter(w),
  before: fc.oneof(
    fc.tuple(fc.nat({ max: 4_102_444_800_000 }), fc.nat({ max: 500 })).map(([at, seq]) => `${at}_${seq}`),
    fc.constantFrom("999999999999999_9223372036854775808", "8640000000000001_1", "_", "1_"),
  ),
  seq: seqValue,
  event: seqValue,
  limit: fc.constantFrom("0", "1", "50", "200", "201", "-5", "1e3", "999999999"),
});

// ---------------------------------------------------------------------------------------
// A server component tree as Next renders it: every async component awaited, every element in
// a prop followed. Client components (and other synchronous ones) stay elements with props.


async function render(node: unknown): Promise<unknown> {
  if (Array.isArray(node)) return Promise.all(node.map(render));
  if (!isValidElement(node)) return node;
  const element = node as ReactElement<Record<string, unknown>>;
  if (typeof element.type === "function" && element.type.constructor.name === "AsyncFunction") {
    return render(await (element.type as (props: unknown) => Promise<unknown>)(element.props));
  }
  const children = element.props.children;
  // What React refuses to render (an object that is no element, a function): the page would fail.
  for (const child of Array.isArray(children) ? children.flat(Infinity) : [children]) {
    if (typeof child === "function" || (child !== null && typeof child === "object" && !isValidElement(child))) {
      throw new Error(`not renderable as a child: ${Object.prototype.toString.call(child)}`);
    }
  }
  const props: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(element.props)) props[key] = isValidElement(value) || Array.isArray(value) ? await render(value) : value;
  return { type: element.type, props };
}

const isElementNode = (node: unknown): node is { type: unknown; props: Record<string, unknown> } =>
  node !== null && typeof node === "object" && !Array.isArray(node) && "type" in node && "props" in node;

function findAll(node: unknown, type: unknown, found: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
  if (Array.isArray(node)) for (const child of node) findAll(child, type, found);
  else if (isElementNode(node)) {
    if (node.type === type) found.push(node.props);
    for (const value of Object.values(node.props)) findAll(value, type, found);
  }
  return found;
}

/** The text a tree shows (its strings, in elements and in props holding elements). */
function textOf(node: unknown): string {
  if (typeof node === "string" || typeof node === "number") return String(node);
  if (Array.isArray(node)) return node.map(textOf).join("");
  if (isElementNode(node)) return Object.entries(node.props).map(([key, value]) => (key === "children" || typeof value === "object" ? textOf(value) : "")).join("");
  return "";
}

type PageOutcome = { kind: "rendered"; tree: unknown } | { kind: "redirect"; location: string } | { kind: "not_found" };

/** Renders a page module's default export; Next's redirect and notFound become outcomes, anything else thrown fails the case. */
async function renderPage(file: string, params: Record<string, string>, query: string): Promise<PageOutcome> {
  const page = pages.get(file)!;
  try {
    return { kind: "rendered", tree: await render(await page({ params: Promise.resolve(params), searchParams: Promise.resolve(nextSearchParams(query)) })) };
  } catch (error) {
    const digest = error instanceof Error && "digest" in error ? String(error.digest) : "";
    if (digest.startsWith("NEXT_REDIRECT")) return { kind: "redirect", location: digest.split(";")[2] ?? "" };
    if (digest.startsWith("NEXT_HTTP_ERROR_FALLBACK;404") || digest === "NEXT_NOT_FOUND") return { kind: "not_found" };
    throw error;
  }
}

type PageModule = (props: { params: Promise<Record<string, string>>; searchParams: Promise<Record<string, string | string[]>> }) => Promise<unknown>;
type RouteModule = Record<string, (request: Request, context: { params: Promise<unknown> }) => Promise<Response>>;
const pages = new Map<string, PageModule>();
const routes = new Map<string, RouteModule>();
const APP_FILE: Record<string, string> = {
  "page /signin": "app/(auth)/signin/page.tsx",
  "page /t/[slug]/audit": "app/(tenant)/t/[slug]/audit/page.tsx",
  "page /vendor": "app/(vendor)/vendor/page.tsx",
  "page /vendor/audit": "app/(vendor)/vendor/audit/page.tsx",
  "GET /t/[slug]/audit/export": "app/(tenant)/t/[slug]/audit/export/route.ts",
  "GET /t/[slug]/audit/stream": "app/(tenant)/t/[slug]/audit/stream/route.ts",
};

function asPerson(person: Person, options: { vendor?: boolean; slug?: string } = {}) {
  principal.current = { userId: person.userId, email: person.email, isVendorAdmin: options.vendor ?? false, slug: options.slug };
}

// ---------------------------------------------------------------------------------------
// What each reader must do with what it is given.

/** The audit trail's page (a tenant's, the vendor's): each bad filter named beside its field and nothing searched; otherwise the events. */
function checkTrailPage(outcome: PageOutcome, what: string): string {
  if (outcome.kind !== "rendered") throw new Error(`the trail page did not render (${outcome.kind}) for ${what}`);
  const [form] = findAll(outcome.tree, AuditFilterForm);
  if (!form) throw new Error(`no filter form for ${what}`);
  const errors = form.errors as Record<string, string>;
  for (const [field, message] of Object.entries(errors)) {
    if (!message || LEAKY.test(message)) throw new Error(`the message for ${field} is not a clear one (${JSON.stringify(message)}) for ${what}`);
  }
  const tables = findAll(outcome.tree, LiveAuditTable).length + findAll(outcome.tree, AuditTable).length;
  const alerts = findAll(outcome.tree, Alert).map((props) => textOf(props.children));
  if (Object.keys(errors).length > 0) {
    if (tables > 0) throw new Error(`searched despite bad filters ${JSON.stringify(errors)} for ${what}`);
    if (!alerts.some((a) => /not valid|does not point at a page/.test(a))) throw new Error(`bad filters without a message ${JSON.stringify(alerts)} for ${what}`);
    return "bad filter named";
  }
  if (tables === 0 && !/No events/.test(textOf(outcome.tree))) throw new Error(`neither events nor "No events" for ${what}`);
  return "events shown";
}

/** A route's refusal: the documented JSON error with its status, in words. */
async function checkRefusal(response: Response, allowed: number[], what: string): Promise<string> {
  const text = await response.text();
  if (!allowed.includes(response.status)) throw new Error(`status ${response.status} ${text.slice(0, 300)} for ${what}`);
  const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
  const message = body.error?.message ?? "";
  if (!body.error?.code || !message || LEAKY.test(message)) throw new Error(`an unclear refusal ${text.slice(0, 300)} for ${what}`);
  return body.error.code;
}

/** `check` gets the query string and a coin the reader may use to pick who asks. */
type Check = (query: string, coin: boolean) => Promise<string>;
/** `examples`: query strings (with their coin) run on every run before the generated ones: what was once found. */
type Reader = { valid: (w: World) => Generators; check: Check; examples?: Array<[string, boolean]>; notFuzzedHere?: string };

const READERS: Record<string, Reader> = {
  "page /signin": {
    valid: (w) => ({
      callbackUrl: fc.oneof(
        fc.constantFrom("/", "/vendor", `/t/${w.victim.slug}/audit?q=inv`, `${OWN_ORIGIN}/t/${w.victim.slug}`, "/signin?callbackUrl=%2Fvendor"),
        // Ways off the origin, each of which must come back as a path on Custody.
        fc.constantFrom("//evil.example", "/\\evil.example", "https://evil.example/", "/.//evil.example", "/..//evil.example", "/%2e//evil.example", "/./\\evil.example", "javascript:alert(1)", " //evil.example", "/\t/evil.example", "http:evil.example", "\\\\evil.example"),
      ),
      error: fc.constantFrom("OAuthCallback", "EmailNotVerified", "AccessDenied", "Cancelled", "Default", "toString", "__proto__", "hasOwnProperty"),
      signedOut: fc.constantFrom("1", "true", ""),
    }),
    // Found by this suite: a 500 for an error code named like an Object property, and a
    // signed-in person sent to `//evil.example` (another host) by a path that normalises to it.
    examples: [
      ["error=__proto__", false],
      ["error=constructor", false],
      ["callbackUrl=%2F.%2F%2Fevil.example", true],
      ["callbackUrl=%2F..%2F%2Fevil.example", true],
    ],
    check: async (query, signedIn) => {
      // Anonymous: the sign-in button's return path; signed in: where the page sends the person at once.
      if (signedIn) asPerson(world.victim.adminPerson, { slug: world.victim.slug });
      else principal.current = null;
      const outcome = await renderPage(APP_FILE["page /signin"]!, {}, query);
      const what = `${signedIn ? "signed in" : "anonymous"} ?${query}`;
      let target: string;
      if (outcome.kind === "redirect") target = outcome.location;
      else if (outcome.kind === "rendered") {
        const [button] = findAll(outcome.tree, SignInButton);
        if (!button) throw new Error(`no sign-in button for ${what}`);
        target = button.callbackUrl as string;
        const alerts = findAll(outcome.tree, Alert).map((props) => textOf(props.children));
        if (alerts.some((a) => LEAKY.test(a) || a.length === 0)) throw new Error(`an unclear message ${JSON.stringify(alerts)} for ${what}`);
      } else throw new Error(`the sign-in page answered ${outcome.kind} for ${what}`);
      // As a browser reads a Location header or a link: relative to Custody, it must stay on Custody.
      if (!target.startsWith("/") || new URL(target, OWN_ORIGIN).origin !== OWN_ORIGIN || /[\\\u0000-\u001f]/.test(target)) {
        throw new Error(`sends the person to ${JSON.stringify(target)} (off Custody's origin) for ${what}`);
      }
      return outcome.kind === "redirect" ? "redirected on Custody" : "rendered";
    },
  },
  "page /t/[slug]/audit": {
    valid: pageParams,
    check: async (query) => {
      asPerson(world.victim.adminPerson, { slug: world.victim.slug });
      return checkTrailPage(await renderPage(APP_FILE["page /t/[slug]/audit"]!, { slug: world.victim.slug }, query), `?${query}`);
    },
  },
  "page /vendor/audit": {
    valid: pageParams,
    check: async (query) => {
      asPerson(world.vendor, { vendor: true });
      return checkTrailPage(await renderPage(APP_FILE["page /vendor/audit"]!, {}, query), `?${query}`);
    },
  },
  "page /vendor": {
    valid: (w) => ({
      q: fc.oneof(fc.constantFrom("vixen", "otter", w.victim.tenantId, w.victim.tenantId.toUpperCase(), "%", "_", "\\", "x".repeat(300)), fc.string({ maxLength: 20 })),
      state: fc.constantFrom("none", "pending", "active", "failing", "revoked", "ACTIVE"),
      sort: fc.constantFrom(...FLEET_SORTS, "__proto__", "name; DROP TABLE tenants"),
      dir: fc.constantFrom("asc", "desc", "up"),
      page: fc.constantFrom("1", "2", "0", "-1", "1.5", "100000", "100001", "1e3", "NaN", "Infinity"),
    }),
    check: async (query) => {
      asPerson(world.vendor, { vendor: true });
      const outcome = await renderPage(APP_FILE["page /vendor"]!, {}, query);
      if (outcome.kind !== "rendered") throw new Error(`the fleet page answered ${outcome.kind} for ?${query}`);
      const [table] = findAll(outcome.tree, FleetTable);
      if (!table) throw new Error(`no fleet table for ?${query}`);
      const shown = table.query as Record<string, unknown>;
      const ignored = table.ignored as string[];
      // The table always works from a valid query; a value it could not use is named, never silently replaced.
      expect(fleetQuerySchema.parse(shown)).toEqual(shown);
      const given = nextSearchParams(query);
      for (const name of Object.keys(fleetQuerySchema.shape)) {
        const raw = given[name];
        const value = Array.isArray(raw) ? raw[0] : raw;
        if (!value) continue;
        const usable = fleetQuerySchema.shape[name as keyof typeof fleetQuerySchema.shape].safeParse(value).success;
        if (usable === ignored.includes(name)) throw new Error(`${name}=${JSON.stringify(value)} ${usable ? "ignored though usable" : "dropped without a word"} for ?${query}`);
      }
      expect(FLEET_STATES.includes(shown.state as never) || shown.state === undefined).toBe(true);
      return ignored.length > 0 ? "bad value ignored and named" : "rendered";
    },
  },
  "GET /t/[slug]/audit/export": {
    valid: (w) => ({ ...auditFilter(w), format: fc.constantFrom("csv", "jsonl", "CSV", " jsonl", "xml", "json") }),
    check: async (query) => {
      asPerson(world.victim.adminPerson, { slug: world.victim.slug });
      const headBefore = await chainHead(world.victim.tenantId);
      const response = await routes.get(APP_FILE["GET /t/[slug]/audit/export"]!)!.GET!(new Request(`${OWN_ORIGIN}/t/${world.victim.slug}/audit/export?${query}`), {
        params: Promise.resolve({ slug: world.victim.slug }),
      });
      const what = `?${query}`;
      if (response.status === 200) {
        // The whole file: an error half-way through the stream is a failure too.
        await response.text();
        const moved = (await chainHead(world.victim.tenantId)) - headBefore;
        if (moved !== 1n) throw new Error(`an export recorded ${moved} events for ${what}`);
        return "exported";
      }
      const code = await checkRefusal(response, [400], what);
      if ((await chainHead(world.victim.tenantId)) !== headBefore) throw new Error(`a refused export wrote to the trail for ${what}`);
      return code;
    },
  },
  "GET /t/[slug]/audit/stream": {
    valid: (w) => ({ ...auditFilter(w), after: seqValue }),
    check: async (query) => {
      asPerson(world.victim.adminPerson, { slug: world.victim.slug });
      const headBefore = await chainHead(world.victim.tenantId);
      const abort = new AbortController();
      const response = await routes.get(APP_FILE["GET /t/[slug]/audit/stream"]!)!.GET!(
        new Request(`${OWN_ORIGIN}/t/${world.victim.slug}/audit/stream?${query}`, { signal: abort.signal }),
        { params: Promise.resolve({ slug: world.victim.slug }) },
      );
      const what = `?${query}`;
      if (response.status === 200) {
        if (!response.headers.get("content-type")?.startsWith("text/event-stream")) throw new Error(`not an event stream for ${what}`);
        abort.abort();
        await response.body?.cancel();
        return "streaming";
      }
      const code = await checkRefusal(response, [400], what);
      if ((await chainHead(world.victim.tenantId)) !== headBefore) throw new Error(`a refused live view wrote to the trail for ${what}`);
      return code;
    },
  },
  "GET /api/auth/[...nextauth]": {
    notFuzzedHere:
      "next-auth's own handler needs Next's request scope; Custody's part of the route, the cancelled sign-in reader it calls first, is fuzzed on every next-auth path",
    valid: () => ({ error: fc.constantFrom("access_denied", "ACCESS_DENIED", "access_denied "), error_description: fc.constant("x"), state: fc.string() }),
    check: async (query) => {
      for (const route of ["/api/auth/callback/oidc", "/api/auth/signin/oidc", "/api/auth/callback/", "/api/auth/callback/oidc/x"]) {
        const url = new URL(`${OWN_ORIGIN}${route}?${query}`);
        const answer = cancelledSignInRedirect(url);
        const cancelled = /^\/api\/auth\/callback\/[^/]+$/.test(url.pathname) && url.searchParams.get("error") === "access_denied";
        if (cancelled !== (answer !== null)) throw new Error(`${answer ? "redirected" : "passed on"} ${route}?${query}`);
        if (answer && (answer.status !== 302 || answer.headers.get("location") !== "/api/auth/signin?error=Cancelled")) throw new Error(`odd redirect for ${route}?${query}`);
      }
      return new URLSearchParams(query).get("error") === "access_denied" ? "cancelled sign-in redirected" : "passed on to next-auth";
    },
  },
  "POST /api/auth/[...nextauth]": {
    notFuzzedHere: "next-auth's own handler (sign-in starts and callbacks), behind the per-address limit; e2e/auth.spec.ts drives it through the browser",
    valid: () => ({}),
    check: async () => "not fuzzed",
  },
};

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  delete process.env.NEXTAUTH_URL;
  world = await buildWorld(database.url);
  // The live view ends with the session it was opened in: the victim's admin has one.
  session.token = `hostile-query-${crypto.randomUUID()}`;
  await getDb().session.create({
    data: { sessionToken: hashSessionToken(session.token), userId: world.victim.adminPerson.userId, expires: new Date(Date.now() + 3_600_000) },
  });
  for (const file of new Set(Object.values(APP_FILE))) {
    const exported = (await import(/* @vite-ignore */ path.resolve(file))) as Record<string, unknown>;
    if (file.endsWith("page.tsx")) pages.set(file, exported.default as PageModule);
    else routes.set(file, exported as RouteModule);
  }
});

afterAll(async () => {
  await world?.fixture.close();
  await disconnectDb();
  await database?.drop();
});

describe("hostile query strings for every page and route handler that reads one", () => {
  it("has a case for every reader app/ has, and none for one that is gone", () => {
    const readers = queryStringReaders();
    expect(readers.length).toBeGreaterThan(0);
    expect(readers.sort()).toEqual(Object.keys(READERS).sort());
    for (const [key, reader] of Object.entries(READERS)) if (!reader.notFuzzedHere) expect(APP_FILE[key], key).toBeDefined();
  });

  for (const [key, reader] of Object.entries(READERS)) {
    if (reader.notFuzzedHere && key.startsWith("POST")) continue;
    it(`${key}: no exception, a clear word for each bad value`, async () => {
      const tally = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(queryString(reader.valid(world)), fc.boolean(), async (query, coin) => {
          const outcome = await reader.check(query, coin);
          tally.set(outcome, (tally.get(outcome) ?? 0) + 1);
        }),
        { ...fuzzParameters(`query ${key}`), examples: reader.examples ?? [] },
      );
      console.log(`  ${key} answers: ${JSON.stringify(Object.fromEntries([...tally].sort()))}`);
      expect(tally.size, `${key}: both good and bad query strings met`).toBeGreaterThan(1);
    }, PROPERTY_TIMEOUT_MS);
  }

  it("leaves every audit chain intact", async () => {
    expect(await brokenChains()).toEqual([]);
  });
});
