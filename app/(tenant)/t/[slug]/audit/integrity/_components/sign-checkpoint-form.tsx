"use client";

import { type ReactNode, useActionState } from "react";
import { SubmitButton } from "@/components/submit-button";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { signCheckpointAction } from "../actions";

/**
 * "Sign checkpoint now" after the section's other actions (`children`), on one row; the result
 * goes under the row, so the buttons stay aligned after signing.
 */
export function SignCheckpointForm({ tenantId, children }: { tenantId: string; children?: ReactNode }) {
  const [state, action] = useActionState(signCheckpointAction, null);
  return (
    <div className="flex max-w-md flex-col items-end gap-2">
      <div className="flex flex-wrap items-center justify-end gap-2" data-testid="checkpoint-actions">
        {children}
        <form action={action}>
          <input type="hidden" name="tenantId" value={tenantId} />
          <SubmitButton variant="outline" pendingLabel="Signing…">
            Sign checkpoint now
          </SubmitButton>
        </form>
      </div>
      {state ? (
        <Alert variant={state.ok ? "success" : "destructive"}>
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
    </div>
  );
}
