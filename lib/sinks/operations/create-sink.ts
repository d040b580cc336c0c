import "server-only";
import { randomUUID } from "node:crypto";
import { AUDIT_ACTIONS } from "@/lib/audit";
import { AppError } from "@/lib/errors";
import { type Caller, tenantChange } from "@/lib/authz";
import { type CreateSinkInput, createSinkSchema } from "@/lib/validation/sinks";
import { SINK_KINDS, secretOf, sinkKind, type SinkKindRegistry } from "../kinds";
import { sinkPolicy } from "../policy";
import { encryptSinkSecret } from "../secrets";
import { sealSinkUrl } from "../url-secret";
import { conflictOnName, detailsOf, MAX_SINKS_PER_TENANT, OUTCOME_DB, parse, type SinkSecretOnce, settingsOf, TARGET_TYPE } from "./shared";

/**
 * A tenant admin adds a sink. Returns a generated secret (a webhook's signing secret), the only
 * time it is shown; an entered one (a HEC token) is never shown back.
 *
 * A new sink receives the events from its creation on (its own `sink.created` first): its
 * watermark is set just below that event.
 */
export async function createSink(caller: Caller, input: CreateSinkInput, kinds: SinkKindRegistry = SINK_KINDS): Promise<SinkSecretOnce> {
  const data = parse(createSinkSchema(sinkPolicy(), kinds), input);
  const sinkId = randomUUID();
  const secret = secretOf(sinkKind(kinds, data.kind)!.secret, data, "create");
  // A URL's query string is a secret: sealed, never stored in clear (lib/sinks/url-secret.ts).
  const settings = settingsOf({ settings: sealSinkUrl(sinkId, data.settings) });
  try {
    const attempt = { tenantId: data.tenantId, action: AUDIT_ACTIONS.sinkCreated, target: { type: TARGET_TYPE, id: sinkId } };
    await tenantChange(caller, attempt, async ({ tx, record }) => {
      // Serialises creations in the tenant (the count below would race otherwise).
      await tx.$queryRaw`SELECT id FROM tenants WHERE id = ${data.tenantId}::uuid FOR UPDATE`;
      if ((await tx.logSink.count({ where: { tenantId: data.tenantId } })) >= MAX_SINKS_PER_TENANT) {
        throw new AppError("conflict", `A tenant can have at most ${MAX_SINKS_PER_TENANT} log sinks; delete one first.`);
      }
      // The watermark comes from the event itself: the sink's first event is its own creation.
      await tx.logSink.create({
        data: {
          id: sinkId,
          tenantId: data.tenantId,
          name: data.name,
          kind: data.kind,
          settings,
          secretCiphertext: secret.store === null ? null : new Uint8Array(encryptSinkSecret(sinkId, secret.store)),
          filterActions: data.filter.actions,
          filterOutcomes: data.filter.outcomes.map((o) => OUTCOME_DB[o]),
          enqueuedSeq: 0n,
          createdById: caller.userId,
          updatedById: caller.userId,
        },
      });
      const event = await record({ details: detailsOf(kinds, data.name, data.kind, settings, data.filter) });
      await tx.logSink.update({ where: { id: sinkId }, data: { enqueuedSeq: event.seq - 1n } });
    });
  } catch (error) {
    conflictOnName(error);
  }
  return { sinkId, secret: secret.show };
}
