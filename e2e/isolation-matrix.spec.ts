import fs from "node:fs";
import type { APIRequestContext, APIResponse, Page } from "@playwright/test";
import { DEMO_PASSWORD } from "../lib/dev/idp/users";
import { fillPattern, pagePatterns, routeEndpoints } from "../tests/helpers/app-surface";
import { changedTables, snapshotState } from "../tests/helpers/db-state";
import { APP_ORIGIN, addMember, createTenantAsVendor, customerKey, DEMO, expect, signIn, test, uniqueSuffix, type User } from "./fixtures";

// The isolation matrix over HTTP, against the production build: every page and every route
// handler method in app/ (read from the files, so a new one without a case fails the first
// test) × every person who must be refused (signed in through the development IdP's real
// OIDC flow) × the ids of a tenant they do not belong to. Each case: the app's refusal (a
// redirect to sign-in, the 404 of a tenant that does not exist, a JSON refusal, or for the
// vendor's pages a redirect to the person's own console), none of the victim's data in the
// body, and nothing changed in the database. Server actions are the same matrix in-process
// (tests/integration/isolation-actions.test.ts), the key service too (isolation-keyservice).

test.describe.configure({ timeout: 600_000 });

type Actor = "anonymous" | "outsider" | "otherAdmin" | "otherAuditor" | "ownAuditor" | "vendor";
/**
 * How the app refuses: `signin` a redirect to /signin; `home` a redirect away to the person's
 * own console; `refused-in-stream` a member route's stream whose one line is the data layer's refusal.
 */
type Refusal = "signin" | "not-found" | "unauthenticated" | "home" | "refused-in-stream";
type Who = "tenant-member" | "tenant-admin" | "vendor-admin" | "signed-in";
type Case = { public: string } | { who: Who; method?: "GET" | "POST" };

// Keyed `METHOD /pattern` (route handlers) and `/pattern` (pages).
const CASES: Record<string, Case> = {
  "/": { public: "sends each person to their own console (or to /signin)" },
  "/signin": { public: "the sign-in page" },
  "/no-access": { public: "names the refused account from a signed cookie only" },
  "/tenants": { who: "signed-in" },
  "/t/[slug]": { who: "tenant-member" },
  "/t/[slug]/audit": { who: "tenant-member" },
  "/t/[slug]/audit/integrity": { who: "tenant-member" },
  "/t/[slug]/keys": { who: "tenant-member" },
  "/t/[slug]/keys/[keyId]": { who: "tenant-member" },
  "/t/[slug]/keys/versions": { who: "tenant-member" },
  "/t/[slug]/members": { who: "tenant-member" },
  "/t/[slug]/sinks": { who: "tenant-member" },
  "/t/[slug]/sinks/[sinkId]": { who: "tenant-member" },
  "/t/[slug]/usage": { who: "tenant-member" },
  "/vendor": { who: "vendor-admin" },
  "/vendor/audit": { who: "vendor-admin" },
  "/vendor/aws": { who: "vendor-admin" },
  "/vendor/kms": { who: "vendor-admin" },
  "/vendor/credentials": { who: "vendor-admin" },
  "/vendor/tenants/[tenantId]": { who: "vendor-admin" },
  "GET /vendor/tenants/stamp": { who: "vendor-admin" },
  "/vendor/usage": { who: "vendor-admin" },
  "GET /t/[slug]/audit/export": { who: "tenant-member" },
  "GET /t/[slug]/audit/stream": { who: "tenant-member" },
  "GET /t/[slug]/audit/integrity/public-key": { who: "tenant-member" },
  "GET /t/[slug]/audit/integrity/checkpoints/[id]": { who: "tenant-member" },
  "POST /t/[slug]/audit/integrity/verify": { who: "tenant-member" },
  "POST /t/[slug]/keys/[keyId]/verify": { who: "tenant-admin" },
  "GET /api/auth/[...nextauth]": { public: "next-auth's sign-in flow (e2e/auth.spec.ts)" },
  "POST /api/auth/[...nextauth]": { public: "next-auth's sign-in flow (e2e/auth.spec.ts)" },
  "GET /api/v1/[...path]": { public: "answers 404 for any path: the key service is served in front of Next" },
  "POST /api/v1/[...path]": { public: "as GET" },
  "PUT /api/v1/[...path]": { public: "as GET" },
  "PATCH /api/v1/[...path]": { public: "as GET" },
  "DELETE /api/v1/[...path]": { public: "as GET" },
};

const REFUSED: Record<Who, Actor[]> = {
  "tenant-member": ["anonymous", "outsider", "otherAdmin", "otherAuditor", "vendor"],
  "tenant-admin": ["anonymous", "outsider", "otherAdmin", "otherAuditor", "ownAuditor", "vendor"],
  "vendor-admin": ["anonymous", "outsider", "otherAdmin", "otherAuditor", "ownAuditor"],
  "signed-in": ["anonymous", "outsider"],
};

/** The refusal each kind of endpoint gives each actor. */
function refusalFor(endpoint: string, who: Who, actor: Actor): Refusal[] {
  const signedOut = actor === "anonymous" || actor === "outsider";
  const route = endpoint.includes(" ");
  // Vendor pages send everyone else home; a vendor route handler (the fleet's stamp) answers 404.
  if (who === "vendor-admin") return signedOut ? ["signin"] : route ? ["not-found"] : ["home"];
  if (!route) return signedOut ? ["signin"] : ["not-found"];
  // Route handlers signed out: the proxy's redirect to sign-in, or the handler's own 404 ("member") or 401 ("signed-in").
  if (signedOut) return ["signin", "not-found", "unauthenticated"];
  // The key check is a member route: lib/keys refuses an auditor inside the stream.
  if (who === "tenant-admin" && actor === "ownAuditor") return ["refused-in-stream"];
  return ["not-found"];
}

type Victim = { name: string; slug: string; tenantId: string; adminEmail: string; auditorEmail: string; keyArn: string; keyId: string; sinkId: string; sinkName: string; checkpointId: string };

function e2eDatabaseUrl(): string {
  const name = fs.readFileSync(".custody/e2e/database-name", "utf8").trim();
  const url = new URL(process.env.TEST_DATABASE_URL || "postgresql://postgres@127.0.0.1:5432/postgres");
  url.pathname = `/${name}`;
  return url.toString();
}

// Background jobs and sign-ins write these while the matrix runs: checkpoints and anchors
// (signed every few minutes), sinks' delivery state, sessions' expiry.
const JOB_TABLES = ["audit_checkpoints", "audit_anchors", "log_sinks", "sessions"];

test("the matrix has a case for every page and route handler in app/, and none for one that is gone", () => {
  const surface = [...pagePatterns(), ...routeEndpoints()].sort();
  expect(surface.length).toBeGreaterThan(0);
  expect(surface).toEqual(Object.keys(CASES).sort());
});

test("every page and route handler refuses everyone but the tenant's own people, with that tenant's ids", async ({ pageAs, newPage }) => {
  const victim = await buildVictim(pageAs);
  const people: Record<Exclude<Actor, "anonymous" | "outsider">, User> = {
    otherAdmin: DEMO.acmeAdmin,
    otherAuditor: DEMO.acmeAuditor,
    ownAuditor: { email: victim.auditorEmail, password: DEMO_PASSWORD },
    vendor: DEMO.vendor,
  };
  const contexts = {} as Record<Actor, APIRequestContext>;
  contexts.anonymous = (await newPage()).request;
  // An outsider the IdP knows but Custody does not: sent to /no-access with no session.
  const outsider = await newPage();
  await signIn(outsider, DEMO.outsider.email, DEMO.outsider.password);
  await expect(outsider).toHaveURL(`${APP_ORIGIN}/no-access`);
  contexts.outsider = outsider.request;
  for (const [actor, user] of Object.entries(people)) contexts[actor as Actor] = (await pageAs(user)).request;

  const ids = { slug: victim.slug, keyId: victim.keyId, sinkId: victim.sinkId, id: victim.checkpointId, tenantId: victim.tenantId };
  const secrets = [victim.name, victim.adminEmail, victim.auditorEmail, victim.keyArn, victim.sinkName];
  const databaseUrl = e2eDatabaseUrl();
  const before = await snapshotState(databaseUrl, JOB_TABLES);
  let cases = 0;
  const failures: string[] = [];
  for (const [endpoint, spec] of Object.entries(CASES)) {
    if ("public" in spec) continue;
    const [method, pattern] = endpoint.includes(" ") ? (endpoint.split(" ") as ["GET" | "POST", string]) : (["GET", endpoint] as const);
    const url = fillPattern(pattern, ids);
    for (const actor of REFUSED[spec.who]) {
      cases += 1;
      const response = await send(contexts[actor], method, url);
      const problem = await judge(response, refusalFor(endpoint, spec.who, actor), secrets, victim);
      if (problem) failures.push(`${endpoint} as ${actor}: ${problem}`);
    }
  }
  const after = await snapshotState(databaseUrl, JOB_TABLES);
  console.log(`isolation matrix (pages and route handlers over HTTP): ${cases} cases over ${Object.keys(CASES).length} endpoints`);
  expect(failures).toEqual([]);
  expect(changedTables(before, after)).toEqual([]);
});

async function send(request: APIRequestContext, method: "GET" | "POST", url: string): Promise<APIResponse> {
  // A same-origin POST, as the console's own pages send it: the refusal must come from membership, not from the origin check.
  const headers = method === "POST" ? { origin: APP_ORIGIN } : undefined;
  return request.fetch(url, { method, headers, maxRedirects: 0, timeout: 60_000 });
}

async function judge(response: APIResponse, refusals: Refusal[], secrets: string[], victim: Victim): Promise<string | null> {
  const body = await response.text();
  const leaked = secrets.filter((s) => body.includes(s));
  if (leaked.length > 0) return `answered ${response.status()} holding ${leaked.join(", ")}`;
  const status = response.status();
  const location = response.headers().location ?? "";
  const got = refusalOf(status, location, body, victim);
  return got && refusals.includes(got) ? null : `answered ${status} ${location} ${body.slice(0, 200)}`;
}

function refusalOf(status: number, location: string, body: string, victim: Victim): Refusal | null {
  if (status === 404) return "not-found";
  if (status === 401 && body.includes('"unauthenticated"')) return "unauthenticated";
  if (status >= 300 && status < 400) {
    const path = new URL(location, APP_ORIGIN).pathname;
    if (path === "/signin") return "signin";
    return path.includes(victim.slug) || path.includes(victim.tenantId) ? null : "home";
  }
  // A member route's stream for a member the data layer refuses: one refusal line, no result.
  if (status === 200 && /"forbidden"/.test(body) && !/"ok":true/.test(body)) return "refused-in-stream";
  return null;
}

/** A tenant of its own (admin, auditor, a key, a log sink, a signed checkpoint), made through the console. */
async function buildVictim(pageAs: (user: User) => Promise<Page>): Promise<Victim> {
  const suffix = uniqueSuffix();
  const slug = `vixen-${suffix}`;
  const victim = { name: `Vixen Private ${suffix}`, slug, adminEmail: `admin-${suffix}@vixen.example`, auditorEmail: `auditor-${suffix}@vixen.example` };
  await createTenantAsVendor(await pageAs(DEMO.vendor), { name: victim.name, slug, adminEmail: victim.adminEmail });
  const admin = await pageAs({ email: victim.adminEmail, password: DEMO_PASSWORD });
  await admin.goto(`/t/${slug}`);
  const tenantId = (await admin.getByText(/^[0-9a-f-]{36}$/).first().textContent())!.trim();
  await addMember(admin, slug, victim.auditorEmail, "auditor");

  const keyArn = await customerKey({ tenantId, slug });
  await admin.goto(`/t/${slug}/keys`);
  await admin.getByLabel("KMS key ARN").fill(keyArn);
  await admin.getByRole("button", { name: "Register key" }).click();
  await admin.waitForURL(new RegExp(`/t/${slug}/keys/[0-9a-f-]{36}$`));
  const keyId = admin.url().split("/").at(-1)!;

  const sinkName = `vixen-siem-${suffix}`;
  await admin.goto(`/t/${slug}/sinks`);
  await admin.getByLabel("Name", { exact: true }).fill(sinkName);
  await admin.getByLabel("HTTPS URL").fill("https://localhost:9/vixen-private-hook");
  await admin.getByRole("button", { name: "Add log sink" }).click();
  const sinkHref = await admin.getByRole("link", { name: "Open it" }).getAttribute("href");
  const sinkId = sinkHref!.split("/").at(-1)!;

  await admin.goto(`/t/${slug}/audit/integrity`);
  await admin.getByRole("button", { name: "Sign checkpoint now" }).click();
  await expect(admin.getByText(/Signed a checkpoint of event #\d+\./)).toBeVisible();
  const checkpointHref = await admin.getByTestId("checkpoint-row").getByRole("link", { name: "Download JSON" }).first().getAttribute("href");
  const checkpointId = checkpointHref!.split("/").at(-1)!;
  return { ...victim, tenantId, keyArn, keyId, sinkId, sinkName, checkpointId };
}
