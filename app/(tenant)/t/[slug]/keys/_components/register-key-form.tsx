"use client";

import { useRouter } from "next/navigation";
import { useActionState, useEffect } from "react";
import { SubmitButton } from "@/components/submit-button";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { FormField } from "@/components/ui/form-field";
import { Input } from "@/components/ui/input";
import { registerKeyAction } from "../actions";

export function RegisterKeyForm({ tenantId, slug }: { tenantId: string; slug: string }) {
  const [state, action] = useActionState(registerKeyAction, null);
  const router = useRouter();
  const registered = state?.ok ? state.data?.kmsKeyId : undefined;
  useEffect(() => {
    if (registered) router.push(`/t/${slug}/keys/${registered}`);
  }, [registered, router, slug]);
  const errors = state && !state.ok ? state.fieldErrors : undefined;
  const values = state && !state.ok ? state.values : undefined;

  return (
    <form key={state?.id ?? "initial"} action={action} className="space-y-4" noValidate>
      <input type="hidden" name="tenantId" value={tenantId} />
      <FormField
        label="KMS key ARN"
        htmlFor="key-arn"
        error={errors?.arn?.[0]}
        hint="The key's own ARN (not an alias), e.g. arn:aws:kms:eu-west-1:111122223333:key/1234abcd-…. Multi-Region keys (mrk-…) work too."
      >
        <Input id="key-arn" name="arn" required defaultValue={values?.arn} className="font-mono" autoComplete="off" spellCheck={false} />
      </FormField>
      <FormField
        label="Grant ids (optional)"
        htmlFor="key-grant"
        error={errors?.grantIds?.[0]}
        hint="Only if you give access with a grant rather than key-policy statements; you can also add them on the key's page later. Custody retires every one when you revoke."
      >
        <Input id="key-grant" name="grantIds" defaultValue={values?.grantIds} className="font-mono" autoComplete="off" spellCheck={false} />
      </FormField>
      {state && !state.ok && !errors?.arn && !errors?.grantIds ? (
        <Alert variant="destructive">
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
      <SubmitButton pendingLabel="Registering…">Register key</SubmitButton>
    </form>
  );
}
