import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AUDIT_ACTIONS } from "@/lib/audit";
import type { Principal } from "@/lib/auth/principal";
import type { Caller } from "@/lib/authz";
import { disconnectDb } from "@/lib/db";
import { DEV_KMS_ACCOUNT_ID } from "@/lib/dev/kms/defaults";
import { ERROR_STATUS, type ErrorCode } from "@/lib/errors";
import type { RequestMeta } from "@/lib/http/request-meta";
import { registerKmsKey } from "@/lib/keys";
import { createSink } from "@/lib/sinks";
import { serverActionFiles } from "../helpers/app-surface";
import { awsKeyInput } from "../helpers/aws-kms";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { changedTables, type DbState, TableHashes } from "../helpers/db-state";
import { fuzzParameters, hostileString } from "../helpers/hostile";
import { brokenChains, buildWorld, type Person, type World } from "../helpers/isolation-world";

// Hostile input for every console form: each server action a "use server" file in app/
// exports (a new one without a generator fails below), called in-process on a real database
// by the person it is for (the victim tenant's admin, or the vendor admin), with at least
// 1,000 generated forms per run: each field valid, hostile (control and invisible characters,
// lone surrogates, injections, overlong text), a file instead of text, or missing, plus
// unknown fields. Each answer: a result, never the generic internal error nor "unavailable";
// a refusal's code one the console documents for forms, its message free of internal text;
// a refusal stores nothing (every table but the trail compared); the chains verify afterwards.

const principal = vi.hoisted(() => ({ current: null as null | { userId: string; email: string } }));
vi.mock("@/lib/auth/principal", () => ({
  getPrincipal: async (): Promise<Principal | null> =>
    principal.current ? { ...principal.current, name: null, isVendorAdmin: false, tenants: [] } : null,
  callerFor: async (p: Principal): Promise<Caller> => ({ userId: p.userId, request }),
}));
vi.mock("next/cache", () => ({ revalidatePath: () => undefined }));

const request: RequestMeta = { sourceIp: "198.51.100.77", userAgent: "vitest hostile forms", requestId: "req-hostile-forms" };

/** What a form's refusal may say (lib/errors): never internal or unavailable, the console's "5xx". */
const FORM_REFUSALS: ErrorCode[] = ["bad_request", "not_found", "forbidden", "conflict", "rate_limited"];
const LEAKY = /\n\s+at |TypeError|ReferenceError|Prisma|ECONN|SQLSTATE|syntax error|violates|invalid input/i;

/** A backstop against a hang, not a limit: a thousand forms on a busy two-core machine take minutes. */
const PROPERTY_TIMEOUT_MS = 900_000;

type Valid = Record<string, fc.Arbitrary<string>>;
type FormCase = { as: "tenant admin" | "vendor admin"; fields: (w: World) => Valid } | { noInput: string };

let database: TestDatabase;
let world: World;
let spareKeyId: string;
let spareSinkId: string;
const actions = new Map<string, (previous: null, form: FormData) => Promise<{ ok: boolean; code?: string; message?: string }>>();

const uuid = fc.uuid();
const email = fc.oneof(fc.emailAddress(), fc.constantFrom("new@vixen.example", "ADMIN@VIXEN.EXAMPLE", "admin@vixen.example"));
const role = fc.constantFrom("admin", "auditor");
const arn = fc
  .tuple(fc.constantFrom("us-east-1", "eu-west-1", "us-gov-west-1"), fc.constantFrom(DEV_KMS_ACCOUNT_ID, "111122223333"), fc.uuid(), fc.constantFrom("key", "alias"))
  .map(([region, account, id, kind]) => `arn:aws:kms:${region}:${account}:${kind}/${id}`);
const grantIds = fc.array(fc.stringMatching(/^[0-9a-f]{64}$/), { maxLength: 3 }).map((ids) => ids.join("\n"));
const name = fc.oneof(fc.constantFrom("SIEM", "Finance app"), fc.string({ minLength: 1, maxLength: 30 }));
const on = fc.constant("on");

const sinkFields = (w: World): Valid => ({
  tenantId: fc.constant(w.victim.tenantId),
  kind: fc.constantFrom("webhook", "syslog", "splunk_hec"),
  name,
  url: fc.constantFrom("http://127.0.0.1:9/hook", "https://localhost:9/hec", "http://169.254.169.254/latest", "file:///etc/passwd"),
  caCertificate: fc.constantFrom("", "-----BEGIN CERTIFICATE-----\nnot a cert\n-----END CERTIFICATE-----"),
  host: fc.constantFrom("127.0.0.1", "localhost", "::1", "::ffff:0:a9fe:a9fe"),
  port: fc.constantFrom("6514", "0", "65536", "-1", "1e3"),
  transport: fc.constantFrom("tls", "tcp"),
  facility: fc.constantFrom("13", "24"),
  appName: fc.constantFrom("custody", "x y"),
  token: fc.constantFrom("00000000-0000-0000-0000-000000000000", "short"),
  index: fc.constantFrom("", "main"),
  sourcetype: fc.constantFrom("custody:audit"),
  [`action:${AUDIT_ACTIONS.keyWrap}`]: on,
  "outcome:denied": on,
});

// Keyed `<URL pattern of the actions file>#<export>`: the valid value of each field.
const FORMS: Record<string, FormCase> = {
  "/t/[slug]#setKmsRotationPolicyAction": {
    as: "tenant admin",
    fields: (w) => ({ tenantId: fc.constant(w.victim.tenantId), days: fc.oneof(fc.constant(""), fc.integer({ min: 1, max: 3650 }).map(String)) }),
  },
  "/t/[slug]/members#addMemberAction": { as: "tenant admin", fields: (w) => ({ tenantId: fc.constant(w.victim.tenantId), email, role }) },
  "/t/[slug]/members#changeMemberRoleAction": {
    as: "tenant admin",
    // The auditor's membership: demoting the admin who fills in every other form would end the run's coverage.
    fields: (w) => ({ tenantId: fc.constant(w.victim.tenantId), membershipId: fc.constant(w.victim.auditorMembershipId), role }),
  },
  "/t/[slug]/members#resendInvitationAction": {
    as: "tenant admin",
    fields: (w) => ({ tenantId: fc.constant(w.victim.tenantId), membershipId: fc.constantFrom(w.victim.auditorMembershipId, w.victim.adminMembershipId) }),
  },
  "/t/[slug]/members#removeMemberAction": {
    as: "tenant admin",
    fields: (w) => ({ tenantId: fc.constant(w.victim.tenantId), membershipId: fc.constant(w.victim.auditorMembershipId) }),
  },
  "/t/[slug]/keys#registerKeyAction": {
    as: "tenant admin",
    fields: (w) => ({ tenantId: fc.constant(w.victim.tenantId), provider: fc.constantFrom("aws", "gcp", "AWS"), arn, grantIds }),
  },
  "/t/[slug]/keys#setKeyGrantsAction": { as: "tenant admin", fields: (w) => ({ tenantId: fc.constant(w.victim.tenantId), kmsKeyId: fc.constant(w.victim.kmsKeyId), grantIds }) },
  "/t/[slug]/keys#removeKeyAction": {
    as: "tenant admin",
    // A pending key of its own: removing the verified one would change what later forms meet.
    fields: (w) => ({ tenantId: fc.constant(w.victim.tenantId), kmsKeyId: fc.constant(spareKeyId), slug: fc.constant(w.victim.slug) }),
  },
  "/t/[slug]/keys#revokeAccessAction": { as: "tenant admin", fields: (w) => ({ tenantId: fc.constant(w.victim.tenantId), confirm: fc.constant(w.victim.slug) }) },
  "/t/[slug]/keys#restoreAccessAction": { as: "tenant admin", fields: (w) => ({ tenantId: fc.constant(w.victim.tenantId) }) },
  // Rotating the KMS key: the victim's only key is its primary, so a start or a retirement of it is
  // refused (conflict); random ids are not found. Nothing here may start a re-wrap.
  "/t/[slug]/keys#startRotationAction": {
    as: "tenant admin",
    fields: (w) => ({ tenantId: fc.constant(w.victim.tenantId), kmsKeyId: fc.oneof(fc.constant(w.victim.kmsKeyId), uuid) }),
  },
  "/t/[slug]/keys#resumeRotationAction": { as: "tenant admin", fields: (w) => ({ tenantId: fc.constant(w.victim.tenantId), rotationId: uuid }) },
  "/t/[slug]/keys#rollBackRotationAction": { as: "tenant admin", fields: (w) => ({ tenantId: fc.constant(w.victim.tenantId), rotationId: uuid }) },
  "/t/[slug]/keys#retireKeyAction": {
    as: "tenant admin",
    fields: (w) => ({
      tenantId: fc.constant(w.victim.tenantId),
      kmsKeyId: fc.oneof(fc.constant(w.victim.kmsKeyId), uuid),
      confirm: fc.constantFrom("retire", "", "RETIRE", "retire "),
    }),
  },
  "/t/[slug]/keys#rotateTenantKeyAction": { as: "tenant admin", fields: (w) => ({ tenantId: fc.constant(w.victim.tenantId) }) },
  "/t/[slug]/keys#setRotationScheduleAction": {
    as: "tenant admin",
    fields: (w) => ({ tenantId: fc.constant(w.victim.tenantId), days: fc.constantFrom("90", "", "off", "0", "3651", "1.5", "-1", "1e3", "NaN") }),
  },
  "/t/[slug]/keys#retireTenantKeyAction": {
    as: "tenant admin",
    fields: (w) => ({
      tenantId: fc.constant(w.victim.tenantId),
      tenantKeyId: fc.oneof(fc.constant(w.victim.tenantKeyId), uuid),
      quietDays: fc.constantFrom("30", "1", "0", "3651", "x"),
      confirm: fc.constantFrom("v1", "v2", "", "V1 "),
    }),
  },
  "/t/[slug]/sinks#createSinkAction": { as: "tenant admin", fields: sinkFields },
  "/t/[slug]/sinks#updateSinkAction": {
    as: "tenant admin",
    fields: (w) => ({ ...sinkFields(w), kind: fc.constant("webhook"), sinkId: fc.constant(w.victim.sinkId), rotateSecret: on }),
  },
  "/t/[slug]/sinks#setSinkEnabledAction": {
    as: "tenant admin",
    fields: (w) => ({ tenantId: fc.constant(w.victim.tenantId), sinkId: fc.constant(w.victim.sinkId), enabled: fc.constantFrom("true", "false") }),
  },
  "/t/[slug]/sinks#deleteSinkAction": {
    as: "tenant admin",
    // A sink of its own: the victim's sink is what the forms after this one work on.
    fields: (w) => ({ tenantId: fc.constant(w.victim.tenantId), sinkId: fc.oneof(fc.constant(spareSinkId), uuid) }),
  },
  "/t/[slug]/sinks#retrySinkAction": { as: "tenant admin", fields: (w) => ({ tenantId: fc.constant(w.victim.tenantId), sinkId: fc.constant(w.victim.sinkId) }) },
  "/t/[slug]/sinks#testSinkAction": { as: "tenant admin", fields: (w) => ({ tenantId: fc.constant(w.victim.tenantId), sinkId: fc.constant(w.victim.sinkId) }) },
  "/t/[slug]/audit/integrity#signCheckpointAction": { as: "tenant admin", fields: (w) => ({ tenantId: fc.constant(w.victim.tenantId) }) },
  "/vendor#createTenantAction": {
    as: "vendor admin",
    fields: () => ({ name, slug: fc.stringMatching(/^[a-z0-9]{2,12}(-[a-z0-9]{1,8})?$/), adminEmail: email }),
  },
  "/vendor#resendInvitationAction": {
    as: "vendor admin",
    fields: (w) => ({ tenantId: fc.constant(w.victim.tenantId), membershipId: fc.constantFrom(w.victim.adminMembershipId, w.other.auditor.userId) }),
  },
  "/vendor/aws#runSelfTestAction": {
    noInput: "a button without fields (its schema is z.object({}), unknown fields dropped); each run calls every tenant's KMS, and the isolation matrix covers who may press it",
  },
  "/vendor/credentials#createCredentialAction": {
    as: "vendor admin",
    fields: (w) => ({ name, scope_wrap: on, scope_unwrap: on, scope_rekey: on, tenantId: fc.constantFrom(w.victim.tenantId, "") }),
  },
  "/vendor/credentials#rotateCredentialAction": { as: "vendor admin", fields: (w) => ({ credentialId: fc.constant(w.victim.credentialId) }) },
  "/vendor/credentials#revokeCredentialAction": { as: "vendor admin", fields: (w) => ({ credentialId: fc.oneof(fc.constant(w.other.credentialId), uuid) }) },
};

type Field = { kind: "text"; value: string } | { kind: "file"; value: string } | { kind: "missing" };

/** Each field: its valid value (most often), a hostile string, a file, or nothing; plus unknown fields now and then. */
function form(valid: Valid): fc.Arbitrary<Array<[string, Field]>> {
  const fields = Object.entries(valid).map(([key, good]) =>
    fc
      .oneof(
        { weight: 6, arbitrary: good.map((value): Field => ({ kind: "text", value })) },
        { weight: 2, arbitrary: hostileString.map((value): Field => ({ kind: "text", value })) },
        { weight: 1, arbitrary: fc.constant<Field>({ kind: "missing" }) },
        { weight: 1, arbitrary: hostileString.map((value): Field => ({ kind: "file", value })) },
      )
      .map((field): [string, Field] => [key, field]),
  );
  const extra = fc.array(
    fc.tuple(fc.oneof(hostileString, fc.constantFrom("$ACTION_ID_x", "__proto__", "constructor", "tenantId")), hostileString.map((value): Field => ({ kind: "text", value }))),
    { maxLength: 2 },
  );
  return fc.tuple(fc.tuple(...fields), fc.oneof({ weight: 5, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: extra })).map(([known, more]) => [...known, ...more]);
}

function toFormData(fields: Array<[string, Field]>): FormData {
  const data = new FormData();
  for (const [key, field] of fields) {
    if (field.kind === "text") data.append(key, field.value);
    if (field.kind === "file") data.append(key, new Blob([field.value]), "x.txt");
  }
  return data;
}

// A hash per table of everything a refusal must leave as it was (the trail, sinks' queues and
// usage counters excepted), re-hashing only the tables a form wrote to.
let tableHashes: TableHashes;

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  world = await buildWorld(database.url);
  spareKeyId = (await registerKmsKey(world.victim.admin, awsKeyInput(world.victim.tenantId, await world.fixture.customerKey(world.victim)))).kmsKeyId;
  spareSinkId = (await createSink(world.victim.admin, { tenantId: world.victim.tenantId, name: "spare", kind: "webhook", settings: { url: "http://127.0.0.1:9/spare" } })).sinkId;
  for (const { file, pattern } of serverActionFiles()) {
    const exported = (await import(/* @vite-ignore */ path.resolve(file))) as Record<string, unknown>;
    for (const [key, value] of Object.entries(exported)) if (typeof value === "function") actions.set(`${pattern}#${key}`, value as never);
  }
  tableHashes = await TableHashes.open(database.url);
});

afterAll(async () => {
  await tableHashes?.close();
  await world?.fixture.close();
  await disconnectDb();
  await database?.drop();
});

describe("hostile input to the console's forms", () => {
  it("has a generator for every server action app/ exports, and none for one that is gone", () => {
    expect(actions.size).toBeGreaterThan(0);
    expect([...actions.keys()].sort()).toEqual(Object.keys(FORMS).sort());
  });

  for (const [key, spec] of Object.entries(FORMS)) {
    if ("noInput" in spec) continue;
    it(`${key}: a result for every form, documented refusals, nothing stored on refusal`, async () => {
      const action = actions.get(key);
      expect(action, key).toBeDefined();
      const person: Person = spec.as === "vendor admin" ? world.vendor : world.victim.adminPerson;
      principal.current = { userId: person.userId, email: person.email };
      const tally = new Map<string, number>();
      let state: DbState = await tableHashes.read();
      await fc.assert(
        fc.asyncProperty(form(spec.fields(world)), async (fields) => {
          const result = await action!(null, toFormData(fields)).catch(redirected);
          const outcome = result.ok ? "ok" : (result.code ?? "?");
          tally.set(outcome, (tally.get(outcome) ?? 0) + 1);
          const after = await tableHashes.read();
          const what = `${outcome} ${result.message ?? ""} for ${JSON.stringify(fields)}`;
          if (result.ok) {
            state = after;
            return;
          }
          if (!FORM_REFUSALS.includes(result.code as ErrorCode) || ERROR_STATUS[result.code as ErrorCode] >= 500) throw new Error(`an undocumented refusal: ${what}`);
          if (LEAKY.test(result.message ?? "")) throw new Error(`internal text in the message: ${what}`);
          const changed = changedTables(state, after);
          if (changed.length > 0) throw new Error(`a refusal changed ${changed.join(", ")}: ${what}`);
        }),
        fuzzParameters(key),
      );
      console.log(`  ${key} answers: ${JSON.stringify(Object.fromEntries([...tally].sort()))}`);
      expect(tally.get("bad_request") ?? 0, "hostile forms refused as bad requests").toBeGreaterThan(0);
    }, PROPERTY_TIMEOUT_MS);
  }

  it("leaves every audit chain intact", async () => {
    expect(await brokenChains()).toEqual([]);
  });
});

/** A form that succeeded by leaving the page (Next's redirect, thrown) counts as ok; anything else thrown fails. */
function redirected(error: unknown): { ok: boolean; code?: string; message?: string } {
  if (error instanceof Error && "digest" in error && String(error.digest).startsWith("NEXT_REDIRECT")) return { ok: true, message: "redirected" };
  throw error;
}
