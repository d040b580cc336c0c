import type { AuditEvent } from "@/lib/db/generated/client";
import { CSV_HEADER, csvLine, type ExportFormat, exportRecordOf, jsonLine } from "./export-format";

// The export as a byte stream that is pulled, never pushed: the next events are read from the
// database only when the reader (the HTTP response, hence the client's TCP window) has taken
// the previous chunk. So a slow client slows the reads instead of making the server buffer the
// trail, and memory stays at about one database batch plus one chunk however large the export.

/** Text gathered per chunk before it is handed to the reader. */
const CHUNK_CHARS = 64 * 1024;

export type ExportEnd = { outcome: "complete" | "cancelled" | "failed"; events: number; bytes: number; error?: unknown };

export type ExportStreamOptions = {
  /** Stops reading when it aborts (the request's signal: the client went away). */
  signal?: AbortSignal;
  /** Called once, when the export ends one way or another (for the log). */
  onEnd?: (end: ExportEnd) => void;
  chunkChars?: number;
};

export function exportStream(
  events: AsyncIterable<AuditEvent>,
  format: ExportFormat,
  options: ExportStreamOptions = {},
): ReadableStream<Uint8Array> {
  const iterator = events[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  const chunkChars = options.chunkChars ?? CHUNK_CHARS;
  const line = format === "csv" ? csvLine : jsonLine;
  let pending = format === "csv" ? CSV_HEADER : "";
  let count = 0;
  let bytes = 0;
  let ended = false;

  function end(outcome: ExportEnd["outcome"], error?: unknown): void {
    if (ended) return;
    ended = true;
    options.signal?.removeEventListener("abort", onAbort);
    // Ends the database reader: an async generator's return() runs its cleanup and it reads no more.
    if (outcome !== "complete") void iterator.return?.().catch(() => {});
    options.onEnd?.({ outcome, events: count, bytes, error });
  }
  function onAbort(): void {
    end("cancelled");
  }
  options.signal?.addEventListener("abort", onAbort);

  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (options.signal?.aborted) {
        end("cancelled");
        controller.error(new Error("export cancelled"));
      }
    },
    async pull(controller) {
      try {
        let text = pending;
        pending = "";
        while (text.length < chunkChars) {
          const next = await iterator.next();
          if (ended) {
            controller.error(new Error("export cancelled"));
            return;
          }
          if (next.done) {
            if (text) emit(controller, text);
            controller.close();
            end("complete");
            return;
          }
          text += line(exportRecordOf(next.value));
          count += 1;
        }
        emit(controller, text);
      } catch (error) {
        end("failed", error);
        controller.error(error);
      }
    },
    cancel() {
      end("cancelled");
    },
  });

  function emit(controller: ReadableStreamDefaultController<Uint8Array>, text: string): void {
    const chunk = encoder.encode(text);
    bytes += chunk.byteLength;
    controller.enqueue(chunk);
  }
}
