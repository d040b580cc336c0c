"use client";

import { useActionState } from "react";
import { SubmitButton } from "@/components/submit-button";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { FormField } from "@/components/ui/form-field";
import { Input } from "@/components/ui/input";
import { setKeyGrantsAction } from "../actions";

/** The grant ids Custody keeps for this key (and retires on revocation): add or change them any time. */
export function KeyGrantsForm({ tenantId, kmsKeyId, grantIds }: { tenantId: string; kmsKeyId: string; grantIds: string[] }) {
  const [state, action] = useActionState(setKeyGrantsAction, null);
  const errors = state && !state.ok ? state.fieldErrors : undefined;
  const values = state && !state.ok ? state.values : undefined;
  return (
    <form key={state?.id ?? "initial"} action={action} className="space-y-3" noValidate>
      <input type="hidden" name="tenantId" value={tenantId} />
      <input type="hidden" name="kmsKeyId" value={kmsKeyId} />
      <FormField
        label="Grant ids"
        htmlFor="key-grant-ids"
        error={errors?.grantIds?.[0]}
        hint="The GrantId create-grant printed (separate several with spaces). Custody retires every one when you revoke access."
      >
        <Input
          id="key-grant-ids"
          name="grantIds"
          defaultValue={values?.grantIds ?? grantIds.join(" ")}
          className="font-mono"
          autoComplete="off"
          spellCheck={false}
        />
      </FormField>
      {state ? (
        <Alert variant={state.ok ? "success" : "destructive"}>
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
      <SubmitButton pendingLabel="Saving…" variant="outline">
        Save grant ids
      </SubmitButton>
    </form>
  );
}
