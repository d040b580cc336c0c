"use client";

import { useActionState } from "react";
import { SubmitButton } from "@/components/submit-button";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { signCheckpointAction } from "../actions";

export function SignCheckpointForm({ tenantId }: { tenantId: string }) {
  const [state, action] = useActionState(signCheckpointAction, null);
  return (
    <div className="space-y-2">
      <form action={action}>
        <input type="hidden" name="tenantId" value={tenantId} />
        <SubmitButton variant="outline" pendingLabel="Signing…">
          Sign checkpoint now
        </SubmitButton>
      </form>
      {state ? (
        <Alert variant={state.ok ? "success" : "destructive"}>
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
    </div>
  );
}
