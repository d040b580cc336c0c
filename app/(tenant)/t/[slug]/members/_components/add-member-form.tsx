"use client";

import { useActionState } from "react";
import { SubmitButton } from "@/components/submit-button";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { FormField } from "@/components/ui/form-field";
import { Input } from "@/components/ui/input";
import { NativeSelect } from "@/components/ui/select";
import { addMemberAction } from "../actions";

export function AddMemberForm({ tenantId }: { tenantId: string }) {
  const [state, action] = useActionState(addMemberAction, null);
  const errors = state && !state.ok ? state.fieldErrors : undefined;
  const values = state && !state.ok ? state.values : undefined;

  // Keyed by submission: fresh fields after a success, the submitted ones after a refusal.
  return (
    <form key={state?.id ?? "initial"} action={action} className="space-y-4" noValidate>
      <input type="hidden" name="tenantId" value={tenantId} />
      <div className="grid gap-4 sm:grid-cols-[1fr_12rem_auto] sm:items-end">
        <FormField label="Email" htmlFor="member-email" error={errors?.email?.[0]}>
          <Input
            id="member-email"
            name="email"
            type="email"
            autoComplete="off"
            placeholder="name@company.com"
            defaultValue={values?.email}
            required
          />
        </FormField>
        <FormField label="Role" htmlFor="member-role" error={errors?.role?.[0]}>
          <NativeSelect id="member-role" name="role" defaultValue={values?.role ?? "auditor"}>
            <option value="auditor">Auditor (read-only)</option>
            <option value="admin">Admin</option>
          </NativeSelect>
        </FormField>
        <SubmitButton pendingLabel="Adding…">Add member</SubmitButton>
      </div>
      {state && !state.ok && !errors?.email && !errors?.role ? (
        <Alert variant="destructive">
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
      {state?.ok ? (
        <Alert variant="success">
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
    </form>
  );
}
