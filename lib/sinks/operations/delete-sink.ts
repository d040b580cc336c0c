import "server-only";
import { AUDIT_ACTIONS } from "@/lib/audit";
import { type Caller, tenantChange } from "@/lib/authz";
import { sinkActionSchema } from "@/lib/validation/sinks";
import { destinationOf, SINK_KINDS, type SinkKindRegistry, type StoredSettings } from "../kinds";
import { lockSink, parse, TARGET_TYPE } from "./shared";

/** Deletes a sink and its undelivered batches (they are not sent). */
export async function deleteSink(caller: Caller, input: { tenantId: string; sinkId: string }, kinds: SinkKindRegistry = SINK_KINDS): Promise<void> {
  const { tenantId, sinkId } = parse(sinkActionSchema, input);
  const attempt = { tenantId, action: AUDIT_ACTIONS.sinkDeleted, target: { type: TARGET_TYPE, id: sinkId } };
  await tenantChange(caller, attempt, async ({ tx, record }) => {
    const sink = await lockSink(tx, tenantId, sinkId);
    const [pending] = await tx.$queryRaw<Array<{ events: bigint }>>`
      SELECT coalesce(sum(cardinality(seqs)), 0)::bigint AS events FROM sink_deliveries WHERE sink_id = ${sink.id}::uuid`;
    await tx.logSink.delete({ where: { id: sink.id } });
    await record({
      details: {
        name: sink.name,
        kind: sink.kind,
        destination: destinationOf(kinds, sink.kind, sink.settings as StoredSettings).audit,
        undeliveredEvents: Number(pending?.events ?? 0n),
      },
    });
  });
}
