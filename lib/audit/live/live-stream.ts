import "server-only";
import type { AuditFilter } from "../query/filter";
import { type AuditLiveHub, type LiveDelivery, type LiveSubscription } from "./live-hub";
import { toLiveEvent } from "./live-event";

// One live view's Server-Sent Events body. Each matching event is
//
//   id: <seq>
//   event: audit
//   data: <the event as JSON (lib/audit/live/live-event.ts)>
//
// and when events that do not match the filter were passed over, a bare `id: <seq>` with no
// data: a browser records it as the last event id without firing anything, so an automatic
// reconnect (Last-Event-ID) resumes after them instead of reading them again. Resuming from an
// id is exact: the hub sends every matching event above it, in order, once.
//
// Backpressure: a delivery is not acknowledged (and the hub reads nothing more for this view)
// until the client has taken what was queued, so a slow or stalled client holds at most one
// batch in memory.

export const SSE_HEARTBEAT_MS = 15_000;
/** The browser's reconnect delay after a dropped stream. */
export const SSE_RETRY_MS = 2_000;
const QUEUED_BYTES = 64 * 1024;

export type AuditEventStreamOptions = {
  hub: AuditLiveHub;
  chain: string;
  filter: AuditFilter;
  /** Send events with a seq above this. */
  after: bigint;
  /** Aborts when the client goes away: the subscription ends with it. */
  signal: AbortSignal;
  heartbeatMs?: number;
  /**
   * Asked before each delivery and each heartbeat: false ends the stream (the viewer lost access).
   * It may answer from a short cache; it is never asked twice at once.
   */
  authorize?: () => Promise<boolean>;
  /** Called once when the stream ends, however it ends. */
  onClose?: () => void;
};

/** SSE text for one delivery. */
export function formatDelivery({ events, examined }: LiveDelivery): string {
  let text = "";
  for (const event of events) {
    text += `id: ${event.seq}\nevent: audit\ndata: ${JSON.stringify(toLiveEvent(event))}\n\n`;
  }
  const lastSent = events.length > 0 ? events[events.length - 1]!.seq : null;
  if (lastSent !== examined) text += `id: ${examined}\n\n`;
  return text;
}

/** The stream of a chain's events through a filter, from just after `after`, until the signal aborts. */
export function auditEventStream(options: AuditEventStreamOptions): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let subscription: LiveSubscription | null = null;
  let heartbeat: NodeJS.Timeout | null = null;
  let resume: (() => void) | null = null;
  let closed = false;
  let checking: Promise<boolean> | null = null;

  const finish = () => {
    if (closed) return;
    closed = true;
    subscription?.close();
    if (heartbeat) clearInterval(heartbeat);
    resume?.();
    resume = null;
    options.signal.removeEventListener("abort", onAbort);
    options.onClose?.();
  };
  let onAbort = () => {};

  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        onAbort = () => {
          finish();
          try {
            controller.close();
          } catch {
            // Already closed or errored.
          }
        };
        if (options.signal.aborted) {
          onAbort();
          return;
        }
        options.signal.addEventListener("abort", onAbort, { once: true });
        // The first bytes make the response start at once (the browser's `open`) and set its retry delay.
        controller.enqueue(encoder.encode(`retry: ${SSE_RETRY_MS}\n: live\n\n`));
        const allowed = async (): Promise<boolean> => {
          if (!options.authorize) return true;
          checking ??= options.authorize().catch(() => false);
          const ok = await checking;
          checking = null;
          if (!ok) onAbort();
          return ok && !closed;
        };
        heartbeat = setInterval(() => {
          void allowed().then((ok) => {
            // A comment line keeps proxies and the browser from timing an idle stream out.
            if (ok && (controller.desiredSize ?? 0) > 0) controller.enqueue(encoder.encode(": keep-alive\n\n"));
          });
        }, options.heartbeatMs ?? SSE_HEARTBEAT_MS);
        heartbeat.unref();
        try {
          subscription = options.hub.subscribe(options.chain, options.filter, options.after, async (delivery) => {
            if (closed || !(await allowed())) return;
            controller.enqueue(encoder.encode(formatDelivery(delivery)));
            if ((controller.desiredSize ?? 0) <= 0 && !closed) await new Promise<void>((r) => (resume = r));
          }, onAbort);
        } catch (error) {
          finish();
          throw error;
        }
      },
      pull() {
        resume?.();
        resume = null;
      },
      cancel() {
        finish();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: QUEUED_BYTES }),
  );
}
