"use client";

import { useRouter } from "next/navigation";
import { useActionState, useEffect, useState } from "react";
import { KmsProviderIcon } from "@/components/kms-provider-icon";
import { SubmitButton } from "@/components/submit-button";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { FormField } from "@/components/ui/form-field";
import { Input } from "@/components/ui/input";
import type { KmsProviderChoice } from "@/lib/kms/choices";
import { registerKeyAction } from "../actions";

/**
 * Registering a key starts by choosing its KMS provider (only those this deployment is set up
 * for); the fields, their hints and their error messages are the provider's own.
 */
export function RegisterKeyForm({ tenantId, slug, providers }: { tenantId: string; slug: string; providers: KmsProviderChoice[] }) {
  const [state, action] = useActionState(registerKeyAction, null);
  const router = useRouter();
  const registered = state?.ok ? state.data?.kmsKeyId : undefined;
  useEffect(() => {
    if (registered) router.push(`/t/${slug}/keys/${registered}`);
  }, [registered, router, slug]);
  const errors = state && !state.ok ? state.fieldErrors : undefined;
  const values = state && !state.ok ? state.values : undefined;
  const [chosen, setChosen] = useState(values?.provider ?? providers[0]?.name ?? "");
  const provider = providers.find((p) => p.name === chosen) ?? providers[0];
  if (!provider) return <p className="text-sm text-muted-foreground">This Custody deployment has no KMS provider set up.</p>;
  const fieldNames = new Set(provider.fields.map((field) => field.name));
  const unshown = !errors || Object.keys(errors).every((name) => !fieldNames.has(name));

  return (
    <form key={state?.id ?? "initial"} action={action} className="space-y-4" noValidate>
      <input type="hidden" name="tenantId" value={tenantId} />
      <fieldset className="space-y-2">
        <legend className="text-sm font-medium">KMS provider</legend>
        <div className="flex flex-wrap gap-2" role="radiogroup">
          {providers.map((choice) => (
            <label
              key={choice.name}
              className="flex cursor-pointer items-center gap-2 rounded-md border px-3 py-2 text-sm has-[:checked]:border-primary has-[:checked]:bg-muted"
            >
              <input
                type="radio"
                name="provider"
                value={choice.name}
                checked={choice.name === provider.name}
                onChange={() => setChosen(choice.name)}
                className="sr-only"
              />
              <KmsProviderIcon icon={choice.icon} />
              {choice.label}
            </label>
          ))}
        </div>
        {errors?.provider ? <p className="text-sm text-destructive" role="alert">{errors.provider[0]}</p> : null}
      </fieldset>
      {provider.fields.map((field) => {
        const id = `key-${field.name}`;
        const common = {
          id,
          name: field.name,
          required: !field.optional,
          defaultValue: values?.[field.name],
          placeholder: field.placeholder,
          autoComplete: "off",
          spellCheck: false,
        };
        return (
          <FormField key={`${provider.name}-${field.name}`} label={field.label} htmlFor={id} error={errors?.[field.name]?.[0]} hint={field.hint}>
            {field.multiline ? (
              <textarea {...common} rows={3} className={`w-full rounded-md border bg-background px-3 py-2 text-sm ${field.code ? "font-mono" : ""}`} />
            ) : (
              <Input {...common} className={field.code ? "font-mono" : undefined} />
            )}
          </FormField>
        );
      })}
      {state && !state.ok && unshown && !errors?.provider ? (
        <Alert variant="destructive">
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
      <SubmitButton pendingLabel="Registering…">Register key</SubmitButton>
    </form>
  );
}
