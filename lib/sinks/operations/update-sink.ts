import "server-only";
import { AUDIT_ACTIONS } from "@/lib/audit";
import { AppError } from "@/lib/errors";
import { type Caller, tenantChange } from "@/lib/authz";
import { type UpdateSinkInput, updateSinkSchema } from "@/lib/validation/sinks";
import { SINK_KINDS, secretOf, sinkKind, type SinkKindRegistry, type StoredSettings } from "../kinds";
import { sinkPolicy } from "../policy";
import { encryptSinkSecret } from "../secrets";
import { sealSinkUrl } from "../url-secret";
import { conflictOnName, detailsOf, lockSink, OUTCOME_DB, parse, type SinkSecretOnce, settingsOf, TARGET_TYPE } from "./shared";

/**
 * A tenant admin edits a sink (not its kind). A rotated generated secret is returned, once. A
 * filter change applies to events not yet enqueued (the outbox runs about a second behind the trail).
 */
export async function updateSink(caller: Caller, input: UpdateSinkInput, kinds: SinkKindRegistry = SINK_KINDS): Promise<SinkSecretOnce> {
  const data = parse(updateSinkSchema(sinkPolicy(), kinds), input);
  const secret = secretOf(sinkKind(kinds, data.kind)!.secret, data, "update");
  try {
    const attempt = { tenantId: data.tenantId, action: AUDIT_ACTIONS.sinkUpdated, target: { type: TARGET_TYPE, id: data.sinkId } };
    await tenantChange(caller, attempt, async ({ tx, record }) => {
      const sink = await lockSink(tx, data.tenantId, data.sinkId);
      if (sink.kind !== data.kind) {
        throw new AppError("bad_request", "A sink's kind cannot change: add a new sink instead.", { kind: ["Cannot change."] });
      }
      // A URL entered without its query string keeps the sealed one (lib/sinks/url-secret.ts).
      const settings = settingsOf({ settings: sealSinkUrl(sink.id, data.settings, sink.settings as StoredSettings) });
      await tx.logSink.update({
        where: { id: sink.id },
        data: {
          name: data.name,
          settings,
          ...(secret.store !== null ? { secretCiphertext: new Uint8Array(encryptSinkSecret(sink.id, secret.store)) } : {}),
          filterActions: data.filter.actions,
          filterOutcomes: data.filter.outcomes.map((o) => OUTCOME_DB[o]),
          updatedById: caller.userId,
          updatedAt: new Date(),
        },
      });
      await record({ details: { ...detailsOf(kinds, data.name, data.kind, settings, data.filter), secretChanged: secret.store !== null } });
    });
  } catch (error) {
    conflictOnName(error);
  }
  return { sinkId: data.sinkId, secret: secret.show };
}
