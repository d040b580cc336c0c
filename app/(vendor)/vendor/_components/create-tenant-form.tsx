"use client";

import { useActionState, useState } from "react";
import { SubmitButton } from "@/components/submit-button";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { FormField } from "@/components/ui/form-field";
import { Input } from "@/components/ui/input";
import type { ActionResult } from "@/lib/http/action-result";
import { createTenantAction } from "../actions";
import { TEXT_LIMITS, limitHint } from "@/lib/validation/limits";

function slugify(name: string): string {
  return name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, TEXT_LIMITS.slug);
}

export function CreateTenantForm() {
  const [state, action] = useActionState(createTenantAction, null);
  // A fresh set of fields after each success (the key changes), the typed ones otherwise.
  return <TenantFields key={state?.id ?? "initial"} state={state} action={action} />;
}

function TenantFields({ state, action }: { state: ActionResult | null; action: (data: FormData) => void }) {
  const values = state && !state.ok ? state.values : undefined;
  const [slug, setSlug] = useState(values?.slug ?? "");
  const [slugEdited, setSlugEdited] = useState(Boolean(values?.slug));
  const errors = state && !state.ok ? state.fieldErrors : undefined;

  return (
    <form action={action} className="space-y-4" noValidate>
      <div className="grid gap-4 sm:grid-cols-3">
        <FormField label="Customer name" htmlFor="tenant-name" error={errors?.name?.[0]} hint={limitHint(TEXT_LIMITS.name)}>
          <Input
            id="tenant-name"
            name="name"
            required
            defaultValue={values?.name}
            placeholder="Globex Corporation"
            onChange={(e) => {
              if (!slugEdited) setSlug(slugify(e.target.value));
            }}
          />
        </FormField>
        <FormField label="URL name" htmlFor="tenant-slug" error={errors?.slug?.[0]} hint={limitHint(TEXT_LIMITS.slug, "Used in console URLs.")}>
          <Input
            id="tenant-slug"
            name="slug"
            required
            value={slug}
            placeholder="globex"
            onChange={(e) => {
              setSlugEdited(true);
              setSlug(e.target.value);
            }}
          />
        </FormField>
        <FormField label="First admin's email" htmlFor="tenant-admin" error={errors?.adminEmail?.[0]}>
          <Input
            id="tenant-admin"
            name="adminEmail"
            type="email"
            required
            defaultValue={values?.adminEmail}
            placeholder="security@globex.com"
          />
        </FormField>
      </div>
      {state && !state.ok && !errors ? (
        <Alert variant="destructive">
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
      {state && !state.ok && errors && state.code !== "bad_request" ? (
        <Alert variant="destructive">
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
      {state?.ok ? (
        <Alert variant="success">
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
      <SubmitButton pendingLabel="Creating…">Create tenant and invite admin</SubmitButton>
    </form>
  );
}
