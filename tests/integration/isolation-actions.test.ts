import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { VENDOR_CHAIN } from "@/lib/audit";
import type { Principal } from "@/lib/auth/principal";
import type { Caller } from "@/lib/authz";
import { disconnectDb } from "@/lib/db";
import type { RequestMeta } from "@/lib/http/request-meta";
import { DEV_KMS_ACCOUNT_ID } from "@/lib/dev/kms/defaults";
import { serverActionFiles } from "../helpers/app-surface";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { TableHashes } from "../helpers/db-state";
import { brokenChains, buildWorld, changedTables, chainHead, type Person, type World } from "../helpers/isolation-world";

// The isolation matrix for server actions: every action exported by a "use server" file in
// app/ (found on disk and imported, so a new action without a case fails below) × every
// person who must be refused × the other tenant's ids, in-process on a real database with the
// session read stubbed (the one part that needs a browser; e2e/isolation-matrix.spec.ts covers
// the HTTP face). Each case: the action's refusal, no table changed, nothing of the victim's
// in the answer, and nothing written into the victim's trail by someone who is not its member.

const principal = vi.hoisted(() => ({ current: null as null | { userId: string; email: string } }));
vi.mock("@/lib/auth/principal", () => ({
  getPrincipal: async (): Promise<Principal | null> =>
    principal.current ? { ...principal.current, name: null, isVendorAdmin: false, tenants: [] } : null,
  callerFor: async (p: Principal): Promise<Caller> => ({ userId: p.userId, request }),
}));
vi.mock("next/cache", () => ({ revalidatePath: () => undefined }));

const request: RequestMeta = { sourceIp: "198.51.100.66", userAgent: "vitest isolation", requestId: "req-isolation" };

type Actor = "anonymous" | "outsider" | "otherAdmin" | "otherAuditor" | "ownAuditor" | "ownAdmin" | "vendor";
/** Who may run the action; everyone else in ACTORS is refused. */
type Who = "tenant-admin" | "tenant-admin-or-vendor" | "tenant-member" | "vendor-admin";
const ACTORS: Actor[] = ["anonymous", "outsider", "otherAdmin", "otherAuditor", "ownAuditor", "ownAdmin", "vendor"];
const ALLOWED: Record<Who, Actor[]> = {
  "tenant-admin": ["ownAdmin"],
  "tenant-admin-or-vendor": ["ownAdmin", "vendor"],
  "tenant-member": ["ownAdmin", "ownAuditor"],
  "vendor-admin": ["vendor"],
};

type Fields = Record<string, string>;
type Case = {
  who: Who;
  /** The form, aimed at the victim tenant's ids. */
  form: (w: World) => Fields;
  /** The same form with the actor's own tenant id and the victim's object id (other tenant's admin only). */
  mixed?: (w: World) => Fields;
  /** Besides forbidden and not_found, the refusal the mixed form may meet first. */
  mixedRefusal?: "conflict";
};

const arn = () => `arn:aws:kms:us-east-1:${DEV_KMS_ACCOUNT_ID}:key/${crypto.randomUUID()}`;
const sink = (w: World) => ({ tenantId: w.victim.tenantId, sinkId: w.victim.sinkId });
const sinkMixed = (w: World) => ({ tenantId: w.other.tenantId, sinkId: w.victim.sinkId });

// Keyed `<URL pattern of the actions file>#<export>`.
const CASES: Record<string, Case> = {
  "/t/[slug]#setKmsRotationPolicyAction": {
    who: "tenant-admin",
    form: (w) => ({ tenantId: w.victim.tenantId, days: "1" }),
  },
  "/t/[slug]/members#addMemberAction": {
    who: "tenant-admin",
    form: (w) => ({ tenantId: w.victim.tenantId, email: "intruder@evil.example", role: "admin" }),
  },
  "/t/[slug]/members#changeMemberRoleAction": {
    who: "tenant-admin",
    form: (w) => ({ tenantId: w.victim.tenantId, membershipId: w.victim.auditorMembershipId, role: "admin" }),
    mixed: (w) => ({ tenantId: w.other.tenantId, membershipId: w.victim.auditorMembershipId, role: "admin" }),
  },
  "/t/[slug]/members#removeMemberAction": {
    who: "tenant-admin",
    form: (w) => ({ tenantId: w.victim.tenantId, membershipId: w.victim.auditorMembershipId }),
    mixed: (w) => ({ tenantId: w.other.tenantId, membershipId: w.victim.auditorMembershipId }),
  },
  "/t/[slug]/members#resendInvitationAction": {
    who: "tenant-admin-or-vendor",
    form: (w) => ({ tenantId: w.victim.tenantId, membershipId: w.victim.auditorMembershipId }),
    mixed: (w) => ({ tenantId: w.other.tenantId, membershipId: w.victim.auditorMembershipId }),
  },
  "/t/[slug]/keys#registerKeyAction": {
    who: "tenant-admin",
    form: (w) => ({ tenantId: w.victim.tenantId, provider: "aws", arn: arn() }),
    // The victim's own key ARN, registered into the attacker's tenant (issue 13, finding 1).
    mixed: (w) => ({ tenantId: w.other.tenantId, provider: "aws", arn: w.victim.kmsKeyArn }),
    // A verified key belongs to its tenant: "already registered", naming no one.
    mixedRefusal: "conflict",
  },
  "/t/[slug]/keys#setKeyGrantsAction": {
    who: "tenant-admin",
    form: (w) => ({ tenantId: w.victim.tenantId, kmsKeyId: w.victim.kmsKeyId, grantIds: "a".repeat(64) }),
    mixed: (w) => ({ tenantId: w.other.tenantId, kmsKeyId: w.victim.kmsKeyId, grantIds: "a".repeat(64) }),
  },
  "/t/[slug]/keys#removeKeyAction": {
    who: "tenant-admin",
    form: (w) => ({ tenantId: w.victim.tenantId, kmsKeyId: w.victim.kmsKeyId, slug: w.victim.slug }),
    mixed: (w) => ({ tenantId: w.other.tenantId, kmsKeyId: w.victim.kmsKeyId, slug: w.other.slug }),
  },
  "/t/[slug]/keys#revokeAccessAction": {
    who: "tenant-admin",
    form: (w) => ({ tenantId: w.victim.tenantId, confirm: w.victim.slug }),
  },
  "/t/[slug]/keys#restoreAccessAction": {
    who: "tenant-admin",
    form: (w) => ({ tenantId: w.victim.tenantId }),
  },
  "/t/[slug]/keys#startRotationAction": {
    who: "tenant-admin",
    form: (w) => ({ tenantId: w.victim.tenantId, kmsKeyId: w.victim.kmsKeyId }),
    mixed: (w) => ({ tenantId: w.other.tenantId, kmsKeyId: w.victim.kmsKeyId }),
  },
  // The victim has no rotation: an id it could have; refused before any lookup.
  "/t/[slug]/keys#resumeRotationAction": {
    who: "tenant-admin",
    form: (w) => ({ tenantId: w.victim.tenantId, rotationId: w.victim.kmsKeyId }),
  },
  "/t/[slug]/keys#rollBackRotationAction": {
    who: "tenant-admin",
    form: (w) => ({ tenantId: w.victim.tenantId, rotationId: w.victim.kmsKeyId }),
  },
  "/t/[slug]/keys#retireKeyAction": {
    who: "tenant-admin",
    form: (w) => ({ tenantId: w.victim.tenantId, kmsKeyId: w.victim.kmsKeyId, confirm: "retire" }),
    mixed: (w) => ({ tenantId: w.other.tenantId, kmsKeyId: w.victim.kmsKeyId, confirm: "retire" }),
  },
  "/t/[slug]/keys#rotateTenantKeyAction": {
    who: "tenant-admin",
    form: (w) => ({ tenantId: w.victim.tenantId }),
  },
  "/t/[slug]/keys#setRotationScheduleAction": {
    who: "tenant-admin",
    form: (w) => ({ tenantId: w.victim.tenantId, days: "1" }),
  },
  "/t/[slug]/keys#retireTenantKeyAction": {
    who: "tenant-admin",
    form: (w) => ({ tenantId: w.victim.tenantId, tenantKeyId: w.victim.tenantKeyId, quietDays: "1", confirm: "v1" }),
    // The attacker's own tenant id with the victim's version: no such version there.
    mixed: (w) => ({ tenantId: w.other.tenantId, tenantKeyId: w.victim.tenantKeyId, quietDays: "1", confirm: "v1" }),
  },
  "/t/[slug]/sinks#createSinkAction": {
    who: "tenant-admin",
    form: (w) => ({ tenantId: w.victim.tenantId, kind: "webhook", name: "exfiltrate", url: "http://127.0.0.1:9/exfiltrate" }),
  },
  "/t/[slug]/sinks#updateSinkAction": {
    who: "tenant-admin",
    form: (w) => ({ ...sink(w), kind: "webhook", name: "exfiltrate", url: "http://127.0.0.1:9/exfiltrate", rotateSecret: "on" }),
    mixed: (w) => ({ ...sinkMixed(w), kind: "webhook", name: "exfiltrate", url: "http://127.0.0.1:9/exfiltrate", rotateSecret: "on" }),
  },
  "/t/[slug]/sinks#setSinkEnabledAction": {
    who: "tenant-admin",
    form: (w) => ({ ...sink(w), enabled: "false" }),
    mixed: (w) => ({ ...sinkMixed(w), enabled: "false" }),
  },
  "/t/[slug]/sinks#deleteSinkAction": { who: "tenant-admin", form: sink, mixed: sinkMixed },
  "/t/[slug]/sinks#retrySinkAction": { who: "tenant-admin", form: sink, mixed: sinkMixed },
  "/t/[slug]/sinks#testSinkAction": { who: "tenant-admin", form: sink, mixed: sinkMixed },
  "/t/[slug]/audit/integrity#signCheckpointAction": {
    who: "tenant-member",
    form: (w) => ({ tenantId: w.victim.tenantId }),
  },
  "/vendor#createTenantAction": {
    who: "vendor-admin",
    form: () => ({ name: "Squatter", slug: "squatter", adminEmail: "intruder@evil.example" }),
  },
  "/vendor#resendInvitationAction": {
    who: "tenant-admin-or-vendor",
    form: (w) => ({ tenantId: w.victim.tenantId, membershipId: w.victim.adminMembershipId }),
    mixed: (w) => ({ tenantId: w.other.tenantId, membershipId: w.victim.adminMembershipId }),
  },
  "/vendor/aws#runSelfTestAction": { who: "vendor-admin", form: () => ({}) },
  "/vendor/credentials#createCredentialAction": {
    who: "vendor-admin",
    form: (w) => ({ name: "exfiltrate", scope_wrap: "on", scope_unwrap: "on", tenantId: w.victim.tenantId }),
  },
  "/vendor/credentials#rotateCredentialAction": {
    who: "vendor-admin",
    form: (w) => ({ credentialId: w.victim.credentialId }),
  },
  "/vendor/credentials#revokeCredentialAction": {
    who: "vendor-admin",
    form: (w) => ({ credentialId: w.victim.credentialId }),
  },
};

type ActionFn = (previous: null, form: FormData) => Promise<{ ok: boolean; code?: string; values?: unknown }>;

let database: TestDatabase;
/** The database's state, per table, before and after each case (only the tables written to are hashed again). */
let tableHashes: TableHashes;
let world: World;
const actions = new Map<string, ActionFn>();

function personOf(actor: Actor): Person | null {
  const { victim, other } = world;
  const people: Record<Actor, Person | null> = {
    anonymous: null,
    outsider: world.outsider,
    otherAdmin: other.adminPerson,
    otherAuditor: other.auditor,
    ownAuditor: victim.auditor,
    ownAdmin: victim.adminPerson,
    vendor: world.vendor,
  };
  return people[actor];
}

function formData(fields: Fields): FormData {
  const data = new FormData();
  for (const [k, v] of Object.entries(fields)) data.set(k, v);
  return data;
}

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  world = await buildWorld(database.url);
  for (const { file, pattern } of serverActionFiles()) {
    const exported = (await import(/* @vite-ignore */ path.resolve(file))) as Record<string, unknown>;
    for (const [name, value] of Object.entries(exported)) {
      if (typeof value === "function") actions.set(`${pattern}#${name}`, value as ActionFn);
    }
  }
  tableHashes = await TableHashes.open(database.url);
});

afterAll(async () => {
  await tableHashes?.close();
  await world?.fixture.close();
  await disconnectDb();
  await database?.drop();
});

describe("the server-action isolation matrix", () => {
  it("has a case for every server action app/ exports, and no case for one it does not", () => {
    expect(actions.size).toBeGreaterThan(0);
    expect([...actions.keys()].sort()).toEqual(Object.keys(CASES).sort());
  });

  it("refuses every action to everyone but its own people, with the other tenant's ids: nothing changes, nothing leaks", async () => {
    let cases = 0;
    const failures: string[] = [];
    for (const [key, spec] of Object.entries(CASES)) {
      const action = actions.get(key);
      if (!action) continue;
      for (const actor of ACTORS.filter((a) => !ALLOWED[spec.who].includes(a))) {
        const variants: Array<[string, Fields, string[]]> = [["victim ids", spec.form(world), []]];
        if (spec.mixed && actor === "otherAdmin") {
          variants.push(["own tenant id, victim's object id", spec.mixed(world), spec.mixedRefusal ? [spec.mixedRefusal] : []]);
        }
        for (const [variant, fields, alsoRefusal] of variants) {
          cases += 1;
          const problem = await refusedCase(action, actor, fields, alsoRefusal);
          if (problem) failures.push(`${key} as ${actor} (${variant}): ${problem}`);
        }
      }
    }
    console.log(`isolation matrix (server actions): ${cases} cases over ${actions.size} actions`);
    expect(failures).toEqual([]);
    expect(await brokenChains()).toEqual([]);
    // A backstop against a hang, not a limit: some 150 cases, each with two snapshots of every table, on a busy two-core machine.
  }, 600_000);
});

/** Runs one refused case; returns what went wrong, or null. */
async function refusedCase(action: ActionFn, actor: Actor, fields: Fields, alsoRefusal: string[]): Promise<string | null> {
  const person = personOf(actor);
  principal.current = person ? { userId: person.userId, email: person.email } : null;
  const before = await tableHashes.read();
  const victimHead = await chainHead(world.victim.tenantId);
  const vendorHead = await chainHead(VENDOR_CHAIN);
  const result = await action(null, formData(fields));
  const after = await tableHashes.read();
  const expected = actor === "anonymous" ? ["unauthenticated"] : ["forbidden", "not_found", ...alsoRefusal];
  if (result.ok || !expected.includes(result.code ?? "")) return `answered ${JSON.stringify({ ok: result.ok, code: result.code })}`;
  const changed = changedTables(before, after);
  if (changed.length > 0) return `changed ${changed.join(", ")}`;
  const { values: _echo, ...answer } = result;
  const leaked = world.victimSecrets.filter((s) => JSON.stringify(answer).includes(s));
  if (leaked.length > 0) return `answer holds ${leaked.join(", ")}`;
  const member = actor === "ownAuditor" || actor === "ownAdmin" || actor === "vendor";
  if (!member && (await chainHead(world.victim.tenantId)) !== victimHead) return "wrote into the victim's trail";
  if (actor === "anonymous" && (await chainHead(VENDOR_CHAIN)) !== vendorHead) return "an anonymous request was audited";
  return null;
}
