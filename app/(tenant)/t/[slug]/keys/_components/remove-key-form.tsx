"use client";

import { useActionState } from "react";
import { SubmitButton } from "@/components/submit-button";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { removeKeyAction } from "../actions";

/** Removes a key that never became usable (registered by mistake); lib/keys refuses a key that wraps a tenant key. */
export function RemoveKeyForm({ tenantId, kmsKeyId, slug }: { tenantId: string; kmsKeyId: string; slug: string }) {
  // On success the action redirects to the key list.
  const [state, action] = useActionState(removeKeyAction, null);
  return (
    <form action={action} className="space-y-3">
      <input type="hidden" name="tenantId" value={tenantId} />
      <input type="hidden" name="kmsKeyId" value={kmsKeyId} />
      <input type="hidden" name="slug" value={slug} />
      <p className="text-sm text-muted-foreground">
        This key never became usable, so no data depends on it. If you registered it by mistake (wrong account, a key that does
        not exist), remove it.
      </p>
      {state && !state.ok ? (
        <Alert variant="destructive">
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
      <SubmitButton pendingLabel="Removing…" variant="destructive">
        Remove this key
      </SubmitButton>
    </form>
  );
}
