import "server-only";
import { noteDatabaseError } from "@/lib/db/health";
import { DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable } from "@/lib/db/unavailable";
import { isAppError } from "@/lib/errors";
import { errorFields, log } from "@/lib/log";
import type { Caller } from "@/lib/authz";
import type { IntegrityReport } from "./verify-chain";
import { VerificationCancelled } from "./verify-chain";
import { verifyTenantTrail } from "./verify-tenant-trail";

// "Verify integrity" as a stream of JSON lines (application/x-ndjson) the browser reads with
// fetch: progress lines while the check runs, then one result line, or one error line.
//
//   {"type":"progress","checked":5000,"total":10000000}
//   {"type":"result","intact":true,"events":…,"headSeq":"…","headHash":"…",…}
//   {"type":"result","intact":false,"events":…,"break":{"seq":"…","kind":"edited","message":"…","eventExists":true,…}}
//   {"type":"error","code":"conflict","message":"…"}

const PROGRESS_EVERY_MS = 200;

export type IntegrityLine =
  | { type: "progress"; checked: number; total: number }
  | ({ type: "result" } & IntegrityResultJson)
  | { type: "error"; code: string; message: string };

export type IntegrityResultJson = {
  intact: boolean;
  events: number;
  headSeq: string;
  headHash: string | null;
  anchorSeq: string | null;
  checkpoints: { checked: number; beforeAnchor: number; signaturesChecked: boolean };
  break?: { seq: string; kind: string; message: string; eventExists: boolean; checkpointId: string | null };
};

export function resultJson(report: IntegrityReport): IntegrityResultJson {
  return {
    intact: report.intact,
    events: report.events,
    headSeq: report.headSeq.toString(),
    headHash: report.headHash,
    anchorSeq: report.anchor?.seq.toString() ?? null,
    checkpoints: report.checkpoints,
    ...(report.intact
      ? {}
      : {
          break: {
            seq: report.break.seq.toString(),
            kind: report.break.kind,
            message: report.break.message,
            eventExists: report.break.eventId !== null,
            checkpointId: report.break.checkpoint?.id.toString() ?? null,
          },
        }),
  };
}

/** Runs verifyTenantTrail for the caller and streams it; stops when the reader goes away. */
export function integrityStream(caller: Caller, tenantId: string, requestSignal?: AbortSignal): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const abort = new AbortController();
  requestSignal?.addEventListener("abort", () => abort.abort(), { once: true });
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (line: IntegrityLine) => {
        if (!abort.signal.aborted) controller.enqueue(encoder.encode(`${JSON.stringify(line)}\n`));
      };
      let lastSent = 0;
      try {
        send({ type: "progress", checked: 0, total: 0 });
        const report = await verifyTenantTrail(caller, tenantId, {
          signal: abort.signal,
          onProgress: ({ checked, total }) => {
            const now = Date.now();
            if (now - lastSent < PROGRESS_EVERY_MS && checked < total) return;
            lastSent = now;
            send({ type: "progress", checked, total });
          },
        });
        send({ type: "result", ...resultJson(report) });
      } catch (error) {
        if (error instanceof VerificationCancelled) return;
        if (isAppError(error)) send({ type: "error", code: error.code, message: error.message });
        else if (isDatabaseUnavailable(error)) {
          noteDatabaseError(error);
          send({ type: "error", code: "unavailable", message: `${DATABASE_UNAVAILABLE_MESSAGE} The check was not completed; run it again.` });
        } else {
          log.error(errorFields(error), "integrity verification failed");
          send({ type: "error", code: "internal", message: "The check could not be completed. It has been logged; please try again." });
        }
      } finally {
        if (!abort.signal.aborted) controller.close();
      }
    },
    cancel() {
      abort.abort();
    },
  });
}
