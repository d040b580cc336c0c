import "server-only";
import { AUDIT_ACTIONS, recordAuditEvent } from "@/lib/audit";
import type { Caller } from "@/lib/authz";
import { getDb } from "@/lib/db";
import { tenantContext } from "@/lib/kms/providers/aws/encryption-context";
import { getAwsKms } from "@/lib/kms/providers/aws/settings";
import { checkIdentity, probeKey, type IdentityCheck, type ProbeSide } from "@/lib/kms/providers/aws/self-test";
import type { KmsErrorKind } from "@/lib/kms/errors";
import { requireFleetViewer } from "./list-fleet";

// The vendor's AWS self-test (vendor console → AWS role): Custody's credentials resolve, the
// identity is the vendor principal tenants admit, and each tenant's key in use (or failing)
// answers Custody's calls — or which side refuses. Vendor admins only; each run is an event in
// the vendor's trail, and in the trail of each tenant whose key it called (the customer sees
// those calls in CloudTrail and can tell why). Key identifiers are not shown to the vendor.

/** At most this many keys per run: the failing ones first, then the tenants' primary keys. */
export const SELF_TEST_MAX_KEYS = 50;
const CONCURRENCY = 4;

export type SelfTestTenant = { tenantId: string; name: string; slug: string; side: ProbeSide; message: string };

export type VendorSelfTest = {
  identity: IdentityCheck;
  vendorPrincipalArn: string;
  /** Tenants whose key was tried, the vendor-side refusals first. */
  tenants: SelfTestTenant[];
  /** Keys that could have been tried (active or failing, tenant access not revoked). */
  candidates: number;
};

/** Why the vendor's side refused, in the vendor's words (the customer's messages say "the vendor has been told"). */
function vendorMessage(kind: KmsErrorKind | undefined, fallback: string): string {
  switch (kind) {
    case "access_denied_vendor":
      return "Refused by your side: Custody's role has no IAM policy allowing the call. Attach the policy shown above.";
    case "credentials":
      return "Refused by your side: Custody's AWS credentials were not accepted.";
    case "bad_response":
      return "Something between Custody and KMS (a proxy, firewall or VPC endpoint) answered instead of KMS.";
    default:
      return fallback;
  }
}

const SIDE_ORDER: Record<ProbeSide, number> = { vendor: 0, inconclusive: 1, customer: 2, ok: 3 };

async function candidateKeys() {
  // The self-test is AWS's: only keys on AWS KMS.
  const where = { provider: "aws", revokedAt: null, status: { in: ["ACTIVE" as const, "PENDING_VERIFICATION" as const] }, tenant: { accessRevokedAt: null } };
  const db = getDb();
  const [count, keys] = await Promise.all([
    db.kmsKey.count({ where }),
    db.kmsKey.findMany({
      where,
      select: { keyRef: true, lastAttemptOk: true, tenant: { select: { id: true, name: true, slug: true } } },
      // Failing keys first (last attempt false), then the rest, newest first.
      orderBy: [{ lastAttemptOk: { sort: "asc", nulls: "last" } }, { createdAt: "desc" }],
      take: SELF_TEST_MAX_KEYS,
    }),
  ]);
  return { count, keys };
}

async function inBatches<T, R>(items: readonly T[], run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += CONCURRENCY) results.push(...(await Promise.all(items.slice(i, i + CONCURRENCY).map(run))));
  return results;
}

/** Runs the self-test as a vendor admin; every run is audited. */
export async function runVendorSelfTest(caller: Caller): Promise<VendorSelfTest> {
  const standing = await requireFleetViewer(caller);
  const { provider, vendorPrincipalArn, aws } = getAwsKms();
  const identity: IdentityCheck = aws
    ? await checkIdentity(aws, vendorPrincipalArn)
    : { ok: false, problem: "Custody's KMS provider was configured without AWS credential settings." };
  const { count, keys } = identity.ok ? await candidateKeys() : { count: 0, keys: [] };
  const tenants = await inBatches(keys, async (key): Promise<SelfTestTenant> => {
    const probe = await probeKey(provider, key.keyRef, tenantContext(key.tenant.id));
    return { tenantId: key.tenant.id, name: key.tenant.name, slug: key.tenant.slug, side: probe.side, message: vendorMessage(probe.kind, probe.message) };
  });
  tenants.sort((a, b) => SIDE_ORDER[a.side] - SIDE_ORDER[b.side] || a.name.localeCompare(b.name));

  const tally = (side: ProbeSide) => tenants.filter((t) => t.side === side).length;
  const passed = identity.ok && identity.matchesVendorPrincipal && tenants.every((t) => t.side === "ok");
  const actor = { type: "vendor_admin" as const, id: caller.userId, label: standing.email };
  await recordAuditEvent({
    tenantId: null,
    actor,
    action: AUDIT_ACTIONS.awsSelfTest,
    outcome: passed ? "success" : "failure",
    request: caller.request,
    details: {
      credentialsResolve: identity.ok,
      principalMatches: identity.ok && identity.matchesVendorPrincipal,
      keysTried: tenants.length,
      vendorSide: tally("vendor"),
      customerSide: tally("customer"),
      inconclusive: tally("inconclusive"),
    },
  });
  for (const tenant of tenants) {
    await recordAuditEvent({
      tenantId: tenant.tenantId,
      actor,
      action: AUDIT_ACTIONS.awsSelfTest,
      target: { type: "tenant", id: tenant.tenantId },
      outcome: tenant.side === "ok" ? "success" : "failure",
      request: caller.request,
      details: { calls: "DescribeKey, GenerateDataKey, Decrypt (nothing kept)", refusedBy: tenant.side === "ok" ? null : tenant.side },
    });
  }
  return { identity, vendorPrincipalArn, tenants, candidates: count };
}
