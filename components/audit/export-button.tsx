"use client";

import * as React from "react";
import { DownloadIcon, XIcon } from "lucide-react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { createRecordCounter, fileNameFromDisposition } from "@/lib/audit/export/export-progress";

export type AuditExportButtonProps = {
  /** The tenant's export route, e.g. /t/acme/audit/export. */
  exportUrl: string;
  /** The current filter as URL parameters (no leading "?"), e.g. action=key.unwrap&outcome=denied. */
  query: string;
};

type Format = "csv" | "jsonl";
const FORMAT_NAMES: Record<Format, string> = { csv: "CSV", jsonl: "JSON Lines" };

type State =
  | { phase: "idle" }
  | { phase: "running"; format: Format; events: number; bytes: number; estimate: { events: number; exact: boolean } | null }
  | { phase: "done"; fileName: string; events: number; bytes: number }
  | { phase: "cancelled" }
  | { phase: "failed"; message: string };

// Chunks are folded into a Blob every so often: Chromium moves large blobs out of the page's
// memory (to disk when needed), so the tab holds at most this much of the file itself.
const FOLD_BYTES = 8 * 1024 * 1024;
const REPAINT_MS = 150;

const number = new Intl.NumberFormat("en");
function size(bytes: number): string {
  if (bytes < 1024 * 1024) return `${number.format(Math.ceil(bytes / 1024))} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

async function refusalMessage(response: Response): Promise<string> {
  if (response.type === "opaqueredirect" || response.status === 401) return "Your session has ended. Sign in again, then export.";
  try {
    const body = (await response.json()) as { error?: { message?: unknown } };
    if (typeof body.error?.message === "string") return body.error.message;
  } catch {
    // Not our JSON error (a proxy's page): fall through to the status.
  }
  return `The export could not start (HTTP ${response.status}). Try again.`;
}

function save(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  document.body.appendChild(link);
  link.click();
  link.remove();
  // The download has its own reference by now; give slow browsers a moment before releasing it.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * Exports the trail through the current filter as CSV or JSON Lines. The file streams in with a
 * running count (of the server's estimate, when it gave one) and can be cancelled; it is saved
 * only when complete, so an interrupted export never leaves a truncated file behind.
 */
export function AuditExportButton({ exportUrl, query }: AuditExportButtonProps) {
  const [state, setState] = React.useState<State>({ phase: "idle" });
  const abortRef = React.useRef<AbortController | null>(null);

  // Leaving the page stops the download (and the server's reads).
  React.useEffect(() => () => abortRef.current?.abort(), []);

  async function run(format: Format) {
    const abort = new AbortController();
    abortRef.current = abort;
    setState({ phase: "running", format, events: 0, bytes: 0, estimate: null });
    const params = new URLSearchParams(query);
    params.set("format", format);
    try {
      // Redirects are not followed: one would only ever lead to the sign-in page's HTML.
      const response = await fetch(`${exportUrl}?${params.toString()}`, { signal: abort.signal, cache: "no-store", redirect: "manual" });
      if (!response.ok || !response.body) {
        setState({ phase: "failed", message: await refusalMessage(response) });
        return;
      }
      const estimated = Number(response.headers.get("x-custody-export-estimate"));
      const estimate = Number.isFinite(estimated) && estimated > 0
        ? { events: estimated, exact: response.headers.get("x-custody-export-estimate-exact") === "true" }
        : null;
      const fileName = fileNameFromDisposition(response.headers.get("content-disposition")) ?? `custody-audit.${format}`;
      const type = response.headers.get("content-type")?.split(";")[0] ?? "application/octet-stream";

      const counter = createRecordCounter(format);
      const reader = response.body.getReader();
      let blob = new Blob([], { type });
      let pending: Uint8Array[] = [];
      let pendingBytes = 0;
      let bytes = 0;
      let painted = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        counter.push(value);
        pending.push(value);
        pendingBytes += value.byteLength;
        bytes += value.byteLength;
        if (pendingBytes >= FOLD_BYTES) {
          blob = new Blob([blob, ...(pending as BlobPart[])], { type });
          pending = [];
          pendingBytes = 0;
        }
        const now = performance.now();
        if (now - painted > REPAINT_MS) {
          painted = now;
          setState({ phase: "running", format, events: counter.records, bytes, estimate });
        }
      }
      blob = new Blob([blob, ...(pending as BlobPart[])], { type });
      save(blob, fileName);
      setState({ phase: "done", fileName, events: counter.records, bytes });
    } catch (error) {
      if (abort.signal.aborted) setState({ phase: "cancelled" });
      else {
        setState({
          phase: "failed",
          message:
            error instanceof TypeError
              ? "The export was interrupted before it finished, so nothing was saved. Try again."
              : "The export failed, so nothing was saved. Try again.",
        });
      }
    } finally {
      if (abortRef.current === abort) abortRef.current = null;
    }
  }

  const running = state.phase === "running";
  return (
    <div className="grid gap-2" data-testid="audit-export">
      <div className="flex flex-wrap items-center gap-2">
        <span className="text-sm text-muted-foreground">Export this view:</span>
        {(Object.keys(FORMAT_NAMES) as Format[]).map((format) => (
          <Button key={format} type="button" variant="outline" size="sm" disabled={running} onClick={() => void run(format)}>
            <DownloadIcon aria-hidden />
            {FORMAT_NAMES[format]}
          </Button>
        ))}
        {running ? (
          <Button type="button" variant="ghost" size="sm" onClick={() => abortRef.current?.abort()}>
            <XIcon aria-hidden />
            Cancel export
          </Button>
        ) : null}
      </div>
      <div aria-live="polite" className="text-sm">
        {state.phase === "running" ? (
          <div className="grid gap-1" data-testid="audit-export-progress">
            <p>
              Exporting {FORMAT_NAMES[state.format]}: {number.format(state.events)}
              {state.estimate && state.events <= state.estimate.events
                ? ` of ${state.estimate.exact ? "" : "about "}${number.format(state.estimate.events)}`
                : ""}{" "}
              events
              {" · "}
              {size(state.bytes)}
            </p>
            {state.estimate && state.events <= state.estimate.events ? (
              <progress
                className="h-2 w-full max-w-md"
                max={state.estimate.events}
                value={state.events}
                aria-label="Export progress"
              />
            ) : null}
          </div>
        ) : null}
        {state.phase === "done" ? (
          <p className="text-muted-foreground">
            Saved {state.fileName}: {number.format(state.events)} events, {size(state.bytes)}.
          </p>
        ) : null}
        {state.phase === "cancelled" ? <p className="text-muted-foreground">Export cancelled; nothing was saved.</p> : null}
      </div>
      {state.phase === "failed" ? (
        <Alert variant="destructive">
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
    </div>
  );
}
