"use client";

import { useActionState } from "react";
import { SubmitButton } from "@/components/submit-button";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { FormField } from "@/components/ui/form-field";
import { Input } from "@/components/ui/input";
import { KMS_ROTATION_DAYS } from "@/lib/validation/kms-rotation";
import { setKmsRotationPolicyAction } from "../actions";

/** The tenant admin's rotation policy: days the primary KMS key may serve before a reminder, or empty for none. */
export function RotationPolicyForm({ tenantId, days }: { tenantId: string; days: number | null }) {
  const [state, action] = useActionState(setKmsRotationPolicyAction, null);
  const errors = state && !state.ok ? state.fieldErrors : undefined;
  const values = state && !state.ok ? state.values : undefined;
  return (
    <form key={state?.id ?? "initial"} action={action} className="space-y-3" noValidate>
      <input type="hidden" name="tenantId" value={tenantId} />
      <FormField
        label="Rotate the KMS key every (days)"
        htmlFor="kms-rotation-days"
        error={errors?.days?.[0]}
        hint={`From ${KMS_ROTATION_DAYS.min} to ${KMS_ROTATION_DAYS.max} days (${KMS_ROTATION_DAYS.default} is a common choice). Leave it empty for no reminders.`}
      >
        <Input id="kms-rotation-days" name="days" inputMode="numeric" defaultValue={values?.days ?? (days === null ? "" : String(days))} className="w-32" autoComplete="off" />
      </FormField>
      {state ? (
        <Alert variant={state.ok ? "success" : "destructive"}>
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
      <SubmitButton pendingLabel="Saving…" variant="outline">
        Save rotation policy
      </SubmitButton>
    </form>
  );
}
