"use client";

import { CheckCircle2Icon, CircleDashedIcon, LoaderCircleIcon, XCircleIcon } from "lucide-react";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { useJsonLinesRun } from "@/components/use-json-lines-run";
import type { VerifyStep } from "@/lib/keys";
import type { VerifyLine } from "@/lib/keys/verify-stream";

export function VerifySteps({ steps }: { steps: VerifyStep[] }) {
  return (
    <ol className="space-y-2" aria-label="Verification steps">
      {steps.map((step) => (
        <li key={step.step} className="flex items-start gap-2 text-sm" data-testid="verify-step" data-ok={step.ok}>
          {step.ok ? (
            <CheckCircle2Icon className="mt-0.5 size-4 shrink-0 text-success" aria-label="passed" />
          ) : step.message === "Not run." ? (
            <CircleDashedIcon className="mt-0.5 size-4 shrink-0 text-muted-foreground" aria-label="not run" />
          ) : (
            <XCircleIcon className="mt-0.5 size-4 shrink-0 text-destructive" aria-label="failed" />
          )}
          <span>
            <span className="font-mono font-medium">{step.step}</span>
            {step.ok ? <span className="text-muted-foreground"> · {step.ms} ms</span> : null}
            <span className="block text-muted-foreground">{step.message}</span>
          </span>
        </li>
      ))}
    </ol>
  );
}

function clock(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/** Counts down to `until` (a Date.now() time), once a second. */
function Countdown({ until }: { until: number }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return <span data-testid="verify-time-left">{clock(until - now)}</span>;
}

/** A retry in progress: the KMS has not applied the customer's new access yet. */
type Waiting = { attempt: number; until: number; message: string };

type PanelProps = { slug: string; kmsKeyId: string; canVerify: boolean; lastSteps: VerifyStep[] | null; waiting: string };

/** Runs verification through the key's JSON-lines route (lib/keys/verify-stream.ts) and shows its progress. */
export function VerifyPanel({ slug, kmsKeyId, canVerify, lastSteps, waiting }: PanelProps) {
  const router = useRouter();
  const { state, run } = useJsonLinesRun<VerifyLine, Waiting>({
    progress: (line) => ({ attempt: line.attempt, until: Date.now() + line.remainingMs, message: line.message }),
    notStarted: () => "Verification could not be started. Please try again.",
    endedEarly: "The connection ended before verification finished. Please try again.",
    onFinished: () => router.refresh(),
  });
  const verify = () => run(`/t/${slug}/keys/${kmsKeyId}/verify`);

  const busy = state.phase === "running";
  return (
    <div className="space-y-4">
      {canVerify ? (
        <Button onClick={verify} disabled={busy} aria-busy={busy || undefined}>
          {busy ? <LoaderCircleIcon className="animate-spin" aria-hidden="true" /> : null}
          {busy ? "Verifying with KMS…" : "Verify access"}
        </Button>
      ) : null}
      {state.phase === "running" && state.progress ? (
        <Alert data-testid="verify-waiting">
          <AlertDescription>
            <p>
              {waiting} — still trying,{" "}
              <Countdown until={state.progress.until} /> left (attempt {state.progress.attempt + 1}).
            </p>
            <p className="text-muted-foreground">Last answer: {state.progress.message}</p>
          </AlertDescription>
        </Alert>
      ) : null}
      {state.phase === "done" ? (
        <Alert variant={state.result.ok ? "success" : "destructive"}>
          <AlertDescription>{state.result.message}</AlertDescription>
        </Alert>
      ) : null}
      {state.phase === "error" ? (
        <Alert variant="destructive">
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
      {state.phase === "done" ? (
        <VerifySteps steps={state.result.steps} />
      ) : lastSteps ? (
        <div className="space-y-2">
          <p className="text-sm font-medium">Last verification</p>
          <VerifySteps steps={lastSteps} />
        </div>
      ) : null}
    </div>
  );
}
