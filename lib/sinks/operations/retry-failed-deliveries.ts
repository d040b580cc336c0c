import "server-only";
import { AUDIT_ACTIONS } from "@/lib/audit";
import { type Caller, tenantChange } from "@/lib/authz";
import { sinkActionSchema } from "@/lib/validation/sinks";
import { lockSink, parse, TARGET_TYPE } from "./shared";

/** Puts a sink's failed batches back in the queue, due now; they go first (lowest seqs). */
export async function retryFailedDeliveries(caller: Caller, input: { tenantId: string; sinkId: string }): Promise<{ batches: number; events: number }> {
  const { tenantId, sinkId } = parse(sinkActionSchema, input);
  const attempt = { tenantId, action: AUDIT_ACTIONS.sinkRetried, target: { type: TARGET_TYPE, id: sinkId } };
  return tenantChange(caller, attempt, async ({ tx, record }) => {
    const sink = await lockSink(tx, tenantId, sinkId);
    const requeued = await tx.$queryRaw<Array<{ n: number }>>`
      UPDATE sink_deliveries
         SET status = 'pending', attempts = 0, next_attempt_at = now(), first_attempt_at = NULL, failed_at = NULL
       WHERE sink_id = ${sink.id}::uuid AND status = 'failed'
       RETURNING cardinality(seqs) AS n`;
    const events = requeued.reduce((sum, r) => sum + r.n, 0);
    // A fresh start for the status: the retried batches decide it again.
    await tx.logSink.update({ where: { id: sink.id }, data: { consecutiveFailures: 0 } });
    await record({ details: { name: sink.name, batches: requeued.length, events } });
    return { batches: requeued.length, events };
  });
}
