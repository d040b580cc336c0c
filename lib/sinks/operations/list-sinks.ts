import "server-only";
import { getDb } from "@/lib/db";
import type { Caller } from "@/lib/authz";
import { sinkActionSchema } from "@/lib/validation/sinks";
import { SINK_KINDS, type SinkKindRegistry } from "../kinds";
import { parse, requireMember } from "./shared";
import { PEOPLE, statusesOf, type SinkView, viewOf } from "./sink-view";

/** A tenant's sinks with their status, by name: for its admins and auditors. */
export async function listSinks(caller: Caller, tenantId: string, kinds: SinkKindRegistry = SINK_KINDS): Promise<SinkView[]> {
  parse(sinkActionSchema.pick({ tenantId: true }), { tenantId });
  await requireMember(caller, tenantId);
  const sinks = await getDb().logSink.findMany({ where: { tenantId }, orderBy: { name: "asc" }, include: PEOPLE });
  const statuses = await statusesOf(tenantId, sinks);
  return sinks.map((s) => viewOf(kinds, s, statuses.get(s.id)!));
}
