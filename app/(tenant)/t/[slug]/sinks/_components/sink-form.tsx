"use client";

// First: zod in the browser must not probe for eval under the CSP (see the module).
import "@/lib/validation/browser";
import Link from "next/link";
import { useActionState, useState } from "react";
import { actionLabel } from "@/lib/audit/catalogue";
import { SubmitButton } from "@/components/submit-button";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { FormField } from "@/components/ui/form-field";
import { Input } from "@/components/ui/input";
import { NativeSelect } from "@/components/ui/select";
import type { ActionResult } from "@/lib/http/action-result";
import { cn } from "@/lib/utils/cn";
import type { SinkFormField, SinkKindForm } from "@/lib/sinks/kinds";
import type { SinkOutcome } from "@/lib/validation/sinks";
import { createSinkAction, type IssuedSecret, updateSinkAction } from "../actions";
import { actionField, errorFor, KNOWN_ACTIONS, OUTCOME_LABELS, outcomeField, SINK_OUTCOMES } from "../sink-form-names";
import { SecretReveal } from "./secret-reveal";
import { TEXT_LIMITS, limitHint } from "@/lib/validation/limits";

/** What the edit form starts from: the stored sink, never its secret. */
export type SinkFormInitial = {
  id: string;
  name: string;
  kind: string;
  settings: Readonly<Record<string, unknown>>;
  filter: { actions: string[]; outcomes: SinkOutcome[] };
};

/** `kinds`: the kind registry's forms (lib/sinks/kinds), from the server. */
type Props = { tenantId: string; slug: string; kinds: SinkKindForm[]; initial?: SinkFormInitial };

/** Add a sink (no `initial`) or edit one. A refused submission keeps what was entered, bar an entered secret. */
export function SinkForm({ tenantId, slug, kinds, initial }: Props) {
  const [state, action] = useActionState(initial ? updateSinkAction : createSinkAction, null);
  const issued = state?.ok && state.data?.secret ? state.data : null;
  return (
    <div className="space-y-4">
      {state?.ok ? (
        <Alert variant="success" data-testid="sink-form-result">
          <AlertDescription>
            {state.message}{" "}
            {!initial && state.data ? (
              <Link className="underline" href={`/t/${slug}/sinks/${state.data.sinkId}`}>
                Open it
              </Link>
            ) : null}
          </AlertDescription>
        </Alert>
      ) : null}
      {issued?.secret ? <SecretReveal name={issued.name} secret={issued.secret} /> : null}
      {/* Fresh fields after each submission: the saved values after a success, the entered ones after a refusal. */}
      <SinkFields key={state?.id ?? "initial"} state={state} action={action} tenantId={tenantId} kinds={kinds} initial={initial} />
    </div>
  );
}

const TEXTAREA = cn(
  "min-h-24 w-full rounded-md border border-input bg-card px-3 py-2 font-mono text-xs text-foreground shadow-xs",
  "focus-visible:border-ring focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring/30",
  "aria-invalid:border-destructive",
);

function SinkFields({
  state,
  action,
  tenantId,
  kinds,
  initial,
}: {
  state: ActionResult<IssuedSecret> | null;
  action: (data: FormData) => void;
  tenantId: string;
  kinds: SinkKindForm[];
  initial?: SinkFormInitial;
}) {
  const refused = state && !state.ok ? state : null;
  const values = refused?.values;
  const errors = refused?.fieldErrors;
  const [kind, setKind] = useState<string>(initial?.kind ?? (kinds.some((k) => k.kind === values?.kind) ? values!.kind! : kinds[0]!.kind));
  const form = kinds.find((k) => k.kind === kind);
  const id = (field: string) => `sink-${initial ? "edit" : "new"}-${field}`;
  // After a refusal the entered text, else the stored setting (or nothing, for a new sink).
  const value = (field: string): string => values?.[field] ?? storedText(initial?.settings[field]);
  const checked = (field: string, stored: boolean) => (values ? values[field] === "on" : stored);
  const actionsError = errorFor(errors, "actions");
  const outcomesError = errorFor(errors, "outcomes");
  const selectedActions = initial?.filter.actions ?? [];
  const anyActionChosen = values ? KNOWN_ACTIONS.some((a) => values[actionField(a)] === "on") : selectedActions.length > 0;
  const fieldErrorShown = errors && Object.keys(errors).length > 0 && refused?.code === "bad_request";
  // Errors no field on screen shows (e.g. "kind" when editing): listed with the form's message.
  const shownFields = new Set([...(initial ? [] : ["kind"]), "name", ...(form?.fields ?? []).flatMap((f) => [f.name, `settings.${f.name}`])]);
  const otherErrors = Object.entries(errors ?? {})
    .filter(([key]) => !shownFields.has(key) && !key.startsWith("filter."))
    .map(([, messages]) => messages[0]);

  return (
    <form action={action} className="space-y-4" noValidate>
      <input type="hidden" name="tenantId" value={tenantId} />
      {initial ? <input type="hidden" name="sinkId" value={initial.id} /> : null}
      <div className="grid gap-4 sm:grid-cols-2">
        <FormField label="Name" htmlFor={id("name")} error={errorFor(errors, "name")} hint={limitHint(TEXT_LIMITS.name, "What it feeds, e.g. Splunk production.")}>
          <Input id={id("name")} name="name" required defaultValue={values?.name ?? initial?.name ?? ""} autoComplete="off" />
        </FormField>
        {initial ? (
          <FormField label="Kind" htmlFor={id("kind")} hint="A sink's kind cannot change: add a new sink instead.">
            <Input id={id("kind")} value={form?.label ?? initial.kind} readOnly />
          </FormField>
        ) : (
          <FormField label="Kind" htmlFor={id("kind")} error={errorFor(errors, "kind")}>
            <NativeSelect id={id("kind")} value={kind} onChange={(e) => setKind(e.target.value)}>
              {kinds.map((k) => (
                <option key={k.kind} value={k.kind}>
                  {k.label}
                </option>
              ))}
            </NativeSelect>
          </FormField>
        )}
        <input type="hidden" name="kind" value={kind} />
      </div>

      {groupFields(form?.fields ?? []).map((group) =>
        group.wide ? (
          <KindField key={group.fields[0]!.name} field={group.fields[0]!} id={id} value={value} errors={errors} editing={initial !== undefined} />
        ) : (
          <div key={group.fields[0]!.name} className="grid gap-4 sm:grid-cols-3">
            {group.fields.map((field) => (
              <KindField key={field.name} field={field} id={id} value={value} errors={errors} editing={initial !== undefined} />
            ))}
          </div>
        ),
      )}

      {initial && form?.rotateLabel ? (
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" name="rotateSecret" defaultChecked={checked("rotateSecret", false)} className="size-4 rounded border-input accent-primary" />
          {form.rotateLabel}
        </label>
      ) : null}

      <fieldset className="space-y-2 rounded-md border border-border p-3">
        <legend className="px-1 text-sm font-medium">Filters (optional)</legend>
        <p className="text-xs text-muted-foreground">Nothing chosen sends everything. A change applies to events not yet queued.</p>
        <div className="flex flex-wrap gap-x-6 gap-y-2" aria-describedby={outcomesError ? id("outcomes-error") : undefined}>
          <span className="text-sm">Outcomes:</span>
          {SINK_OUTCOMES.map((o) => (
            <label key={o} className="flex items-center gap-2 text-sm">
              <input
                type="checkbox"
                name={outcomeField(o)}
                defaultChecked={checked(outcomeField(o), initial?.filter.outcomes.includes(o) ?? false)}
                className="size-4 rounded border-input accent-primary"
              />
              {OUTCOME_LABELS[o]}
            </label>
          ))}
        </div>
        {outcomesError ? (
          <p id={id("outcomes-error")} role="alert" className="text-xs font-medium text-destructive">
            {outcomesError}
          </p>
        ) : null}
        <details open={anyActionChosen || actionsError !== undefined}>
          <summary className="cursor-pointer text-sm">Only some actions</summary>
          <div className="mt-2 grid gap-x-6 gap-y-1.5 sm:grid-cols-2 lg:grid-cols-3">
            {KNOWN_ACTIONS.map((a) => (
              <label key={a} className="flex items-start gap-2 text-sm">
                <input
                  type="checkbox"
                  name={actionField(a)}
                  defaultChecked={checked(actionField(a), selectedActions.includes(a))}
                  className="mt-0.5 size-4 rounded border-input accent-primary"
                />
                <span>
                  {actionLabel(a)} <span className="font-mono text-xs text-muted-foreground">{a}</span>
                </span>
              </label>
            ))}
          </div>
        </details>
        {actionsError ? (
          <p role="alert" className="text-xs font-medium text-destructive">
            {actionsError}
          </p>
        ) : null}
      </fieldset>

      {refused && !fieldErrorShown ? (
        <Alert variant="destructive">
          <AlertDescription>{[refused.message, ...otherErrors].join(" ")}</AlertDescription>
        </Alert>
      ) : refused ? (
        <p role="alert" className="text-sm font-medium text-destructive">
          {[refused.message, ...otherErrors].join(" ")}
        </p>
      ) : null}
      <SubmitButton pendingLabel={initial ? "Saving…" : "Adding…"}>{initial ? "Save changes" : "Add log sink"}</SubmitButton>
    </form>
  );
}

/** A stored setting as the form's text. */
function storedText(setting: unknown): string {
  return typeof setting === "string" || typeof setting === "number" || typeof setting === "boolean" ? String(setting) : "";
}

/** Consecutive narrow fields share a row of three; a wide field has its own row. */
function groupFields(fields: readonly SinkFormField[]): Array<{ wide: boolean; fields: SinkFormField[] }> {
  const groups: Array<{ wide: boolean; fields: SinkFormField[] }> = [];
  for (const field of fields) {
    const last = groups.at(-1);
    if (!field.wide && last && !last.wide) last.fields.push(field);
    else groups.push({ wide: field.wide ?? false, fields: [field] });
  }
  return groups;
}

/** One of a kind's fields (lib/sinks/kinds): after a refusal the entered text, else the stored setting, else its initial value. */
function KindField({
  field,
  id,
  value,
  errors,
  editing,
}: {
  field: SinkFormField;
  id: (field: string) => string;
  value: (field: string) => string;
  errors: Record<string, string[]> | undefined;
  editing: boolean;
}) {
  const shown = field.control === "password" ? undefined : value(field.name) || field.initial || "";
  const common = { id: id(field.name), name: field.name, defaultValue: shown };
  return (
    <FormField label={field.label} htmlFor={id(field.name)} error={errorFor(errors, field.name)} hint={editing ? (field.editHint ?? field.hint) : field.hint}>
      {field.control === "textarea" ? (
        <textarea {...common} className={TEXTAREA} placeholder={field.placeholder} spellCheck={false} />
      ) : field.control === "select" ? (
        <NativeSelect {...common}>
          {(field.options ?? []).map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </NativeSelect>
      ) : field.control === "password" ? (
        <Input id={id(field.name)} name={field.name} type="password" autoComplete="new-password" spellCheck={false} />
      ) : (
        <Input
          {...common}
          inputMode={field.control === "numeric" ? "numeric" : undefined}
          placeholder={field.placeholder}
          className={field.mono ? "font-mono" : undefined}
          autoComplete="off"
          spellCheck={false}
        />
      )}
    </FormField>
  );
}
