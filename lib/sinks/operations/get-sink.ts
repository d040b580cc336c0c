import "server-only";
import { getDb } from "@/lib/db";
import type { Caller } from "@/lib/authz";
import { sinkActionSchema } from "@/lib/validation/sinks";
import { SINK_KINDS, type SinkKindRegistry } from "../kinds";
import { notFound, parse, requireMember } from "./shared";
import { PEOPLE, statusesOf, type SinkView, viewOf } from "./sink-view";

/** One of a tenant's sinks; another tenant's id is not found. */
export async function getSink(caller: Caller, tenantId: string, sinkId: string, kinds: SinkKindRegistry = SINK_KINDS): Promise<SinkView> {
  parse(sinkActionSchema, { tenantId, sinkId });
  await requireMember(caller, tenantId);
  const sink = await getDb().logSink.findFirst({ where: { id: sinkId, tenantId }, include: PEOPLE });
  if (!sink) throw notFound();
  const statuses = await statusesOf(tenantId, [sink]);
  return viewOf(kinds, sink, statuses.get(sink.id)!);
}
