import "server-only";
import { AppError } from "@/lib/errors";
import { actorOf, type Caller, type Standing, tenantChange } from "@/lib/authz";
import { AUDIT_ACTIONS } from "../actions";
import { type AuditDetails, recordAuditEvent } from "../trail/append";
import { deploymentSigningKey } from "./signing-key";
import { type IntegrityProgress, type IntegrityReport, VerificationCancelled, verifyChainIntegrity } from "./verify-chain";

// "Verify integrity" for a tenant's members (admins and auditors). A whole-chain check costs
// CPU in proportion to the trail (ten million events: about a minute), so one check per trail
// runs at a time and at most MAX_RUNNING per process. Each run, finished or abandoned, is an
// audit event in the trail it checked.

const MAX_RUNNING = 2;
const running = ((globalThis as unknown as { custodyVerifying?: Set<string> }).custodyVerifying ??= new Set<string>());

export async function verifyTenantTrail(
  caller: Caller,
  tenantId: string,
  options: { onProgress?: (progress: IntegrityProgress) => void; signal?: AbortSignal } = {},
): Promise<IntegrityReport> {
  // The role check is a refusable, audited attempt; the check itself runs outside any transaction.
  const attempt = { tenantId, action: AUDIT_ACTIONS.auditVerified, target: { type: "audit_trail", id: tenantId }, roles: ["admin" as const, "auditor" as const] };
  const standing: Standing = await tenantChange(caller, attempt, async (change) => change.standing);
  if (running.has(tenantId)) throw new AppError("conflict", "A verification of this trail is already running. Wait for it to finish.");
  if (running.size >= MAX_RUNNING) throw new AppError("unavailable", "Other verifications are running. Try again in a minute.");
  running.add(tenantId);
  const audit = (details: AuditDetails) =>
    recordAuditEvent({
      tenantId,
      actor: actorOf(caller, standing),
      action: AUDIT_ACTIONS.auditVerified,
      target: { type: "audit_trail", id: tenantId },
      outcome: "success",
      request: caller.request,
      details,
    });
  try {
    const report = await verifyChainIntegrity(tenantId, { ...options, trustedKey: deploymentSigningKey() });
    await audit(
      report.intact
        ? { result: "intact", events: report.events, headSeq: report.headSeq.toString(), headHash: report.headHash, checkpoints: report.checkpoints.checked }
        : {
            result: "broken",
            events: report.events,
            breakSeq: report.break.seq.toString(),
            breakKind: report.break.kind,
            checkpointId: report.break.checkpoint?.id.toString() ?? null,
          },
    );
    return report;
  } catch (error) {
    if (error instanceof VerificationCancelled) await audit({ result: "cancelled", events: error.checked });
    throw error;
  } finally {
    running.delete(tenantId);
  }
}
