"use client";

import { CheckCircle2Icon, LoaderCircleIcon, ShieldCheckIcon, XCircleIcon } from "lucide-react";
import Link from "next/link";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { useJsonLinesRun } from "@/components/use-json-lines-run";
import type { IntegrityLine, IntegrityResultJson } from "@/lib/audit/integrity/integrity-stream";

const KIND_LABELS: Record<NonNullable<IntegrityResultJson["break"]>["kind"], string> = {
  edited: "edited",
  deleted: "deleted",
  reordered: "reordered",
  rewritten: "history rewritten",
};

const number = (n: number | string) => Number(n).toLocaleString("en");

/** Runs the server's check and reads its JSON-lines stream (lib/audit/integrity/integrity-stream.ts). */
export function IntegrityVerifier({ slug }: { slug: string }) {
  const { state, run } = useJsonLinesRun<IntegrityLine, { checked: number; total: number }>({
    progress: (line) => ({ checked: line.checked, total: line.total }),
    notStarted: (status) => (status === 404 ? "This tenant's trail is not available to you." : "The check could not be started. Please try again."),
    endedEarly: "The connection ended before the check finished. Please try again.",
  });
  const verify = () => run(`/t/${slug}/audit/integrity/verify`);

  const busy = state.phase === "running";
  return (
    <div className="space-y-4">
      <Button onClick={verify} disabled={busy} aria-busy={busy || undefined}>
        {busy ? <LoaderCircleIcon className="animate-spin" aria-hidden="true" /> : <ShieldCheckIcon aria-hidden="true" />}
        {busy ? "Verifying…" : "Verify integrity"}
      </Button>
      {state.phase === "running" ? <Progress checked={state.progress?.checked ?? 0} total={state.progress?.total ?? 0} /> : null}
      {state.phase === "done" ? <Result slug={slug} result={state.result} /> : null}
      {state.phase === "error" ? (
        <Alert variant="destructive">
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
    </div>
  );
}

function Progress({ checked, total }: { checked: number; total: number }) {
  const percent = total > 0 ? Math.min(100, Math.floor((checked / total) * 100)) : 0;
  return (
    <div className="space-y-1">
      <div
        role="progressbar"
        aria-label="Events checked"
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={checked}
        className="h-2 w-full overflow-hidden rounded-full bg-muted"
      >
        <div className="h-full bg-primary transition-[width]" style={{ width: `${percent}%` }} />
      </div>
      <p className="text-sm text-muted-foreground" data-testid="integrity-progress">
        {total > 0 ? `${number(checked)} of ${number(total)} events checked (${percent}%)` : "Starting…"}
      </p>
    </div>
  );
}

function Result({ slug, result }: { slug: string; result: IntegrityResultJson }) {
  const checkpointNote = `${result.checkpoints.checked} signed checkpoint${result.checkpoints.checked === 1 ? "" : "s"} compared with the trail${
    result.checkpoints.signaturesChecked ? ", signatures valid" : " (signatures not checked: no signing key configured)"
  }.`;
  if (result.intact) {
    return (
      <Alert variant="success" data-testid="integrity-result" data-intact="true">
        <CheckCircle2Icon aria-hidden="true" />
        <AlertTitle>Intact: {number(result.events)} events verified</AlertTitle>
        <AlertDescription>
          <p>
            Head hash (event #{result.headSeq}): <code className="font-mono text-xs break-all">{result.headHash ?? "none (empty trail)"}</code>
          </p>
          {result.anchorSeq ? <p>Events up to #{result.anchorSeq} were removed under the retention policy; the check starts from their recorded anchor.</p> : null}
          <p>{checkpointNote}</p>
        </AlertDescription>
      </Alert>
    );
  }
  const broken = result.break!;
  return (
    <Alert variant="destructive" data-testid="integrity-result" data-intact="false">
      <XCircleIcon aria-hidden="true" />
      <AlertTitle>
        Broken at event #{broken.seq}: {KIND_LABELS[broken.kind]}
      </AlertTitle>
      <AlertDescription>
        <p>{broken.message}</p>
        <p>The {number(result.events)} events before it are intact.</p>
        {broken.eventExists ? (
          <p>
            <Link href={`/t/${slug}/audit?seq=${broken.seq}`} className="font-medium underline underline-offset-2">
              Open event #{broken.seq}
            </Link>
          </p>
        ) : null}
      </AlertDescription>
    </Alert>
  );
}
