"use client";

// First: zod in the browser must not probe for eval under the CSP (see the module).
import "@/lib/validation/browser";
import { useActionState } from "react";
import { SubmitButton } from "@/components/submit-button";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { FormField } from "@/components/ui/form-field";
import { Input } from "@/components/ui/input";
import { NativeSelect } from "@/components/ui/select";
import type { ActionResult } from "@/lib/http/action-result";
import { scopeField } from "@/lib/validation/credentials";
import { SERVICE_SCOPES, type ServiceScope } from "@/lib/validation/keyservice";
import { createCredentialAction, type IssuedToken } from "../actions";
import { TokenReveal } from "./token-reveal";
import { TEXT_LIMITS, limitHint } from "@/lib/validation/limits";

const SCOPE_HELP: Record<ServiceScope, string> = {
  wrap: "new data keys for encrypting",
  unwrap: "decrypt stored data keys",
  rekey: "re-wrap data keys under the current key",
};

type TenantOption = { id: string; name: string; slug: string };

export function CreateCredentialForm({ tenants }: { tenants: TenantOption[] }) {
  const [state, action] = useActionState(createCredentialAction, null);
  return (
    <div className="space-y-4">
      {state?.ok && state.data ? <TokenReveal name={state.data.name} token={state.data.token} /> : null}
      {/* A fresh set of fields after each submission: empty after a success, refilled after a refusal. */}
      <CredentialFields key={state?.id ?? "initial"} state={state} action={action} tenants={tenants} />
    </div>
  );
}

function CredentialFields({
  state,
  action,
  tenants,
}: {
  state: ActionResult<IssuedToken> | null;
  action: (data: FormData) => void;
  tenants: TenantOption[];
}) {
  const values = state && !state.ok ? state.values : undefined;
  const errors = state && !state.ok ? state.fieldErrors : undefined;
  const scopeError = errors?.scopes?.[0] ?? Object.entries(errors ?? {}).find(([k]) => k.startsWith("scopes."))?.[1][0];

  return (
    <form action={action} className="space-y-4" noValidate>
      <div className="grid gap-4 sm:grid-cols-2">
        <FormField label="Name" htmlFor="credential-name" error={errors?.name?.[0]} hint={limitHint(TEXT_LIMITS.name, "What uses it, e.g. billing-api (production).")}>
          <Input id="credential-name" name="name" required defaultValue={values?.name} placeholder="billing-api" autoComplete="off" />
        </FormField>
        <FormField
          label="Tenant"
          htmlFor="credential-tenant"
          error={errors?.tenantId?.[0]}
          hint="Restrict it to one tenant, or let it serve every tenant."
        >
          <NativeSelect id="credential-tenant" name="tenantId" defaultValue={values?.tenantId ?? ""}>
            <option value="">All tenants</option>
            {tenants.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name} ({t.slug})
              </option>
            ))}
          </NativeSelect>
        </FormField>
      </div>
      <fieldset className="space-y-2" aria-describedby={scopeError ? "credential-scopes-error" : undefined}>
        <legend className="text-sm leading-none font-medium text-foreground">Scopes</legend>
        <div className="flex flex-wrap gap-x-6 gap-y-2 pt-1">
          {SERVICE_SCOPES.map((scope) => (
            <label key={scope} className="flex items-center gap-2 text-sm">
              <input
                type="checkbox"
                name={scopeField(scope)}
                defaultChecked={values?.[scopeField(scope)] === "on"}
                className="size-4 rounded border-input accent-primary"
              />
              <span className="font-mono">{scope}</span>
              <span className="text-muted-foreground">— {SCOPE_HELP[scope]}</span>
            </label>
          ))}
        </div>
        {scopeError ? (
          <p id="credential-scopes-error" role="alert" className="text-xs font-medium text-destructive">
            {scopeError}
          </p>
        ) : null}
      </fieldset>
      {state && !state.ok && (!errors || state.code !== "bad_request") ? (
        <Alert variant="destructive">
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
      <SubmitButton pendingLabel="Creating…">Create credential</SubmitButton>
    </form>
  );
}
