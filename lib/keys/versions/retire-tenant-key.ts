import "server-only";
import { AUDIT_ACTIONS } from "@/lib/audit";
import { catchUp } from "@/lib/audit/usage/tenant-usage";
import { type Caller, standingOf, tenantChange } from "@/lib/authz";
import { getDb } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { announceKeyState } from "../revocation-channel";
import { lockTenant } from "../verify-kms-key";
import { keyUsesOf, uncountedUseOf } from "./key-uses";
import { versionRows, versionsOf } from "./list-tenant-key-versions";

/**
 * Retires an old tenant key version: from the commit on, every key-service instance refuses its
 * EDEKs with `key_version_retired` (NOTIFY on commit; recorded as denied). Allowed only for a
 * version that is not current and has been quiet (no wrap, unwrap or rekey, and not current)
 * for `quietDays`; events the usage rollup has not counted yet are read from the chain's tail.
 * Final: a retired version is never reinstated (ARCHITECTURE.md, "Tenant key versions").
 */
export async function retireTenantKey(
  caller: Caller,
  input: { tenantId: string; tenantKeyId: string; quietDays: number; /** The version typed back ("v1"). */ confirm: string },
  options: { now?: Date } = {},
): Promise<{ version: number }> {
  // Count what the rollup has not reached yet first (its own transaction), for admins only: a
  // refused caller changes nothing anywhere.
  if ((await standingOf(getDb(), caller.userId, input.tenantId)).role === "admin") await catchUp(input.tenantId);
  const attempt = { tenantId: input.tenantId, action: AUDIT_ACTIONS.tenantKeyRetired, target: { type: "tenant_key", id: input.tenantKeyId } };
  return tenantChange(caller, attempt, async ({ tx, deny, record }) => {
    await lockTenant(tx, input.tenantId);
    const now = options.now ?? new Date();
    const rows = await versionRows(tx, input.tenantId);
    const uses = await keyUsesOf(tx, input.tenantId);
    // Uses the rollup has not counted yet count too: an unwrap a second ago blocks retirement.
    const recent = await uncountedUseOf(tx, input.tenantId, input.tenantKeyId);
    const counted = uses.get(input.tenantKeyId);
    if (recent && (!counted?.lastUsedAt || recent > counted.lastUsedAt)) {
      uses.set(input.tenantKeyId, { wraps: 0, unwraps: 0, rekeysFrom: 0, rekeysTo: 0, lastReadAt: null, ...counted, lastUsedAt: recent });
    }
    const version = versionsOf(rows, uses, now, input.quietDays).find((v) => v.tenantKeyId === input.tenantKeyId);
    if (!version) throw new AppError("not_found", "That tenant key version does not exist in this tenant.");
    if (input.confirm.trim().toLowerCase() !== `v${version.version}`) {
      throw new AppError("bad_request", "Nothing was retired.", { confirm: [`Type v${version.version} to confirm.`] });
    }
    if (!version.retirement.allowed) {
      throw deny("not retirable yet", new AppError("conflict", `Version ${version.version} cannot be retired yet. ${version.retirement.reason}`));
    }
    await tx.tenantKey.update({ where: { id: input.tenantKeyId, tenantId: input.tenantId }, data: { retiredAt: now, retiredById: caller.userId } });
    await record({ details: { version: version.version, quietDays: input.quietDays, lastUsedAt: version.lastUsedAt?.toISOString() ?? null } });
    await announceKeyState(tx, input.tenantId);
    return { version: version.version };
  });
}
