"use client";

import { useActionState } from "react";
import { SubmitButton } from "@/components/submit-button";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { FormField } from "@/components/ui/form-field";
import { Input } from "@/components/ui/input";
import type { ActionResult } from "@/lib/http/action-result";
import { retireTenantKeyAction, rotateTenantKeyAction, setRotationScheduleAction } from "../actions";

function Outcome<T>({ state }: { state: ActionResult<T> | null }) {
  if (!state) return null;
  return (
    <Alert variant={state.ok ? "success" : "destructive"} data-testid="form-outcome">
      <AlertDescription>{state.message}</AlertDescription>
    </Alert>
  );
}

/** Rotate now: a new version under the primary KMS key becomes current for wraps. */
export function RotateNowForm({ tenantId }: { tenantId: string }) {
  const [state, action] = useActionState(rotateTenantKeyAction, null);
  return (
    <form action={action} className="space-y-3">
      <input type="hidden" name="tenantId" value={tenantId} />
      <Outcome state={state} />
      <SubmitButton pendingLabel="Asking your KMS…">Rotate now</SubmitButton>
    </form>
  );
}

/** The rotation schedule: a new version every n days, or off. */
export function RotationScheduleForm({ tenantId, days }: { tenantId: string; days: number | null }) {
  const [state, action] = useActionState(setRotationScheduleAction, null);
  const errors = state && !state.ok ? state.fieldErrors : undefined;
  const values = state && !state.ok ? state.values : undefined;
  return (
    <form key={state?.id ?? "initial"} action={action} className="space-y-3" noValidate>
      <input type="hidden" name="tenantId" value={tenantId} />
      <FormField
        label="Rotate every (days)"
        htmlFor="rotation-days"
        error={errors?.days?.[0]}
        hint="A new version is made when the current one is this old (e.g. 90). Leave empty to rotate only on demand."
      >
        <Input id="rotation-days" name="days" inputMode="numeric" defaultValue={values?.days ?? (days === null ? "" : String(days))} className="w-32" />
      </FormField>
      <Outcome state={state} />
      <SubmitButton pendingLabel="Saving…" variant="outline">
        Save schedule
      </SubmitButton>
    </form>
  );
}

/** Retire one old version: typed back to confirm, with the quiet period it must have had. */
export function RetireVersionForm({ tenantId, tenantKeyId, version }: { tenantId: string; tenantKeyId: string; version: number }) {
  const [state, action] = useActionState(retireTenantKeyAction, null);
  const errors = state && !state.ok ? state.fieldErrors : undefined;
  const values = state && !state.ok ? state.values : undefined;
  return (
    <form key={state?.id ?? "initial"} action={action} className="flex flex-wrap items-end gap-3" noValidate data-testid={`retire-v${version}`}>
      <input type="hidden" name="tenantId" value={tenantId} />
      <input type="hidden" name="tenantKeyId" value={tenantKeyId} />
      <FormField label="Quiet for (days)" htmlFor={`quiet-${tenantKeyId}`} error={errors?.quietDays?.[0]}>
        <Input id={`quiet-${tenantKeyId}`} name="quietDays" inputMode="numeric" defaultValue={values?.quietDays ?? "30"} className="w-24" />
      </FormField>
      <FormField label={`Type v${version} to confirm`} htmlFor={`confirm-${tenantKeyId}`} error={errors?.confirm?.[0]}>
        <Input id={`confirm-${tenantKeyId}`} name="confirm" autoComplete="off" defaultValue={values?.confirm ?? ""} className="w-24" />
      </FormField>
      <SubmitButton pendingLabel="Retiring…" variant="destructive">
        Retire v{version}
      </SubmitButton>
      <div className="basis-full">
        <Outcome state={state} />
      </div>
    </form>
  );
}
