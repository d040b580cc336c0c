import { randomBytes } from "node:crypto";
import { signCheckpointNow } from "@/lib/audit/integrity/checkpoints";
import { forgetDeploymentSigningKey } from "@/lib/audit/integrity/signing-key";
import { verifyStoredChain } from "@/lib/audit/integrity/verify-chain";
import type { Caller } from "@/lib/authz";
import { getDb } from "@/lib/db";
import { addMember } from "@/lib/tenants";
import { createSink } from "@/lib/sinks";
import { forgetDeploymentSinkSecretKeys } from "@/lib/sinks/secrets";
import { newSigningKeyPem } from "./audit-trail";
export { changedTables, snapshotState } from "./db-state";
import { KeyServiceFixture, type TenantWithKey } from "./key-service";

// Two tenants, every kind of person, and one of everything a tenant owns, made through the
// domain's own functions on a real database and the development KMS: the victim's ids are what
// the isolation and hostile-input suites throw at the console and the key service.

export type Person = { email: string; userId: string; caller: Caller };

export type VictimTenant = TenantWithKey & {
  name: string;
  adminPerson: Person;
  auditor: Person;
  adminMembershipId: string;
  auditorMembershipId: string;
  sinkId: string;
  sinkName: string;
  sinkUrl: string;
  credentialId: string;
  credentialName: string;
  credentialToken: string;
  checkpointSeq: string;
  /** The tenant key (v1) its verified KMS key made. */
  tenantKeyId: string;
};

export type AttackerTenant = TenantWithKey & { adminPerson: Person; auditor: Person; credentialId: string; credentialToken: string };

export type World = {
  fixture: KeyServiceFixture;
  vendor: Person;
  outsider: Person;
  victim: VictimTenant;
  other: AttackerTenant;
  /** Strings only the victim's own people may ever see. */
  victimSecrets: string[];
};

/**
 * Sets the environment the console's code reads (sealing and signing keys, the demo's loopback
 * sink rules, refusal limits out of the way) and builds the world. DATABASE_URL must be set.
 */
export async function buildWorld(databaseUrl: string): Promise<World> {
  process.env.SINK_SECRET_KEY = randomBytes(32).toString("base64");
  delete process.env.SINK_SECRET_KEY_FILE;
  process.env.SINK_ALLOW_PRIVATE_TARGETS = "true";
  process.env.SINK_ALLOW_HTTP = "true";
  process.env.AUDIT_SIGNING_KEY = newSigningKeyPem();
  // The suites refuse hundreds of actions per person: the per-person limit is tested elsewhere.
  process.env.CONSOLE_REFUSALS_PER_USER = "100000";
  forgetDeploymentSinkSecretKeys();
  forgetDeploymentSigningKey();

  const fixture = await KeyServiceFixture.start(databaseUrl);
  const person = async (email: string): Promise<Person> => {
    const caller = await fixture.callerFor(email);
    return { email, userId: caller.userId, caller };
  };
  const vendor = await person("ops@vendor.example");

  const v = await fixture.tenantWithKey("vixen");
  await getDb().tenant.update({ where: { id: v.tenantId }, data: { name: "Vixen Holdings Private" } });
  const victimAdmin = await person("admin@vixen.example");
  await addMember(v.admin, { tenantId: v.tenantId, email: "auditor@vixen.example", role: "auditor" });
  const victimAuditor = await person("auditor@vixen.example");
  const memberships = await getDb().membership.findMany({ where: { tenantId: v.tenantId } });
  const membershipOf = (userId: string) => memberships.find((m) => m.userId === userId)!.id;
  const sinkName = "vixen-private-siem";
  const sinkUrl = "http://127.0.0.1:9/vixen-private-hook";
  const { sinkId } = await createSink(v.admin, { tenantId: v.tenantId, name: sinkName, kind: "webhook", settings: { url: sinkUrl } });
  const credentialName = "vixen-private-app";
  const credential = await fixture.credential({ name: credentialName, tenantId: v.tenantId });
  const checkpoint = await signCheckpointNow(v.admin, v.tenantId);

  const o = await fixture.tenantWithKey("otter");
  await addMember(o.admin, { tenantId: o.tenantId, email: "auditor@otter.example", role: "auditor" });
  const otherCredential = await fixture.credential({ name: "otter-app", tenantId: o.tenantId });

  const outsider = await getDb().user.create({ data: { email: "outsider@nowhere.example" } });
  const victim: VictimTenant = {
    ...v,
    name: "Vixen Holdings Private",
    adminPerson: victimAdmin,
    auditor: victimAuditor,
    adminMembershipId: membershipOf(victimAdmin.userId),
    auditorMembershipId: membershipOf(victimAuditor.userId),
    sinkId,
    sinkName,
    sinkUrl,
    credentialId: credential.id,
    credentialName,
    credentialToken: credential.token,
    checkpointSeq: checkpoint.seq.toString(),
    tenantKeyId: (await getDb().tenantKey.findFirstOrThrow({ where: { tenantId: v.tenantId, version: 1 } })).id,
  };
  return {
    fixture,
    vendor,
    outsider: { email: outsider.email, userId: outsider.id, caller: { userId: outsider.id, request: vendor.caller.request } },
    victim,
    other: { ...o, adminPerson: await person("admin@otter.example"), auditor: await person("auditor@otter.example"), credentialId: otherCredential.id, credentialToken: otherCredential.token },
    victimSecrets: [victim.name, "admin@vixen.example", "auditor@vixen.example", v.kmsKeyArn, sinkName, "vixen-private-hook", credentialName],
  };
}

/** The head of a chain (its event count), 0 when it has none. */
export async function chainHead(chain: string): Promise<bigint> {
  const head = await getDb().auditChain.findUnique({ where: { chain } });
  return head?.seq ?? 0n;
}

/** Every chain in the database verifies, or the list of those that do not. */
export async function brokenChains(): Promise<string[]> {
  const chains = await getDb().auditChain.findMany({ select: { chain: true } });
  const broken: string[] = [];
  for (const { chain } of chains) {
    const report = await verifyStoredChain(chain === "vendor" ? null : chain);
    if (!report.intact) broken.push(`${chain}: ${JSON.stringify(report.break)}`);
  }
  return broken;
}
