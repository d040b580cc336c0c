import "server-only";
import { AUDIT_ACTIONS } from "@/lib/audit";
import { AppError } from "@/lib/errors";
import { type Caller, tenantChange } from "@/lib/authz";
import { sinkActionSchema } from "@/lib/validation/sinks";
import { lockSink, parse, TARGET_TYPE } from "./shared";

/**
 * Pauses or resumes a sink. A disabled sink is paused, not emptied: nothing is sent while it is
 * off, and on enabling it catches up from where it stopped.
 */
export async function setSinkEnabled(caller: Caller, input: { tenantId: string; sinkId: string; enabled: boolean }): Promise<void> {
  const { tenantId, sinkId } = parse(sinkActionSchema, input);
  if (typeof input.enabled !== "boolean") throw new AppError("bad_request", "Say whether the sink is enabled.");
  const attempt = { tenantId, action: AUDIT_ACTIONS.sinkUpdated, target: { type: TARGET_TYPE, id: sinkId } };
  await tenantChange(caller, attempt, async ({ tx, record }) => {
    const sink = await lockSink(tx, tenantId, sinkId);
    if (sink.enabled === input.enabled) return;
    await tx.logSink.update({ where: { id: sink.id }, data: { enabled: input.enabled, updatedById: caller.userId, updatedAt: new Date() } });
    await record({ details: { name: sink.name, kind: sink.kind, enabled: input.enabled } });
  });
}
