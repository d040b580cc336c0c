"use client";

import { CheckCircle2Icon, CircleDashedIcon, XCircleIcon } from "lucide-react";
import { useActionState } from "react";
import { SubmitButton } from "@/components/submit-button";
import { Alert, AlertDescription } from "@/components/ui/alert";
import type { VerifyStep } from "@/lib/keys";
import { verifyKeyAction } from "../actions";

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

type PanelProps = { tenantId: string; kmsKeyId: string; canVerify: boolean; lastSteps: VerifyStep[] | null };

export function VerifyPanel({ tenantId, kmsKeyId, canVerify, lastSteps }: PanelProps) {
  const [state, action] = useActionState(verifyKeyAction, null);
  const result = state?.ok ? state.data : undefined;
  return (
    <div className="space-y-4">
      {canVerify ? (
        <form action={action}>
          <input type="hidden" name="tenantId" value={tenantId} />
          <input type="hidden" name="kmsKeyId" value={kmsKeyId} />
          <SubmitButton pendingLabel="Verifying with KMS…">Verify access</SubmitButton>
        </form>
      ) : null}
      {state ? (
        <Alert variant={state.ok && result?.ok ? "success" : "destructive"}>
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
      {result ? (
        <VerifySteps steps={result.steps} />
      ) : lastSteps ? (
        <div className="space-y-2">
          <p className="text-sm font-medium">Last verification</p>
          <VerifySteps steps={lastSteps} />
        </div>
      ) : null}
    </div>
  );
}
