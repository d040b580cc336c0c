"use client";

// First: zod in the browser must not probe for eval under the CSP (see the module).
import "@/lib/validation/browser";
import Link from "next/link";
import { useActionState, useState } from "react";
import { ACTION_LABELS } from "@/components/audit-table";
import { SubmitButton } from "@/components/submit-button";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { FormField } from "@/components/ui/form-field";
import { Input } from "@/components/ui/input";
import { NativeSelect } from "@/components/ui/select";
import type { ActionResult } from "@/lib/http/action-result";
import { cn } from "@/lib/utils/cn";
import type { SinkKind, SinkOutcome } from "@/lib/validation/sinks";
import { createSinkAction, type IssuedSecret, updateSinkAction } from "../actions";
import { actionField, errorFor, KIND_LABELS, KNOWN_ACTIONS, OUTCOME_LABELS, outcomeField, SINK_KINDS, SINK_OUTCOMES } from "../sink-form-fields";
import { SecretReveal } from "./secret-reveal";
import { TEXT_LIMITS, limitHint } from "@/lib/validation/limits";

/** What the edit form starts from: the stored sink, never its secret. */
export type SinkFormInitial = {
  id: string;
  name: string;
  kind: SinkKind;
  settings: Record<string, string | number | null | undefined>;
  filter: { actions: string[]; outcomes: SinkOutcome[] };
};

type Props = { tenantId: string; slug: string; initial?: SinkFormInitial };

/** Add a sink (no `initial`) or edit one. A refused submission keeps what was entered, bar the HEC token. */
export function SinkForm({ tenantId, slug, initial }: Props) {
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
      <SinkFields key={state?.id ?? "initial"} state={state} action={action} tenantId={tenantId} initial={initial} />
    </div>
  );
}

const SHOWN_SETTINGS: Record<SinkKind, string[]> = {
  webhook: ["url", "caCertificate"],
  syslog: ["host", "port", "transport", "caCertificate", "facility", "appName"],
  splunk_hec: ["url", "caCertificate", "index", "sourcetype"],
};

const TEXTAREA = cn(
  "min-h-24 w-full rounded-md border border-input bg-card px-3 py-2 font-mono text-xs text-foreground shadow-xs",
  "focus-visible:border-ring focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring/30",
  "aria-invalid:border-destructive",
);

function SinkFields({
  state,
  action,
  tenantId,
  initial,
}: {
  state: ActionResult<IssuedSecret> | null;
  action: (data: FormData) => void;
  tenantId: string;
  initial?: SinkFormInitial;
}) {
  const refused = state && !state.ok ? state : null;
  const values = refused?.values;
  const errors = refused?.fieldErrors;
  const [kind, setKind] = useState<SinkKind>(initial?.kind ?? ((SINK_KINDS as string[]).includes(values?.kind ?? "") ? (values!.kind as SinkKind) : "webhook"));
  const id = (field: string) => `sink-${initial ? "edit" : "new"}-${field}`;
  // After a refusal the entered text, else the stored setting (or nothing, for a new sink).
  const value = (field: string): string => values?.[field] ?? (initial?.settings[field] != null ? String(initial.settings[field]) : "");
  const checked = (field: string, stored: boolean) => (values ? values[field] === "on" : stored);
  const actionsError = errorFor(errors, "actions");
  const outcomesError = errorFor(errors, "outcomes");
  const selectedActions = initial?.filter.actions ?? [];
  const anyActionChosen = values ? KNOWN_ACTIONS.some((a) => values[actionField(a)] === "on") : selectedActions.length > 0;
  const fieldErrorShown = errors && Object.keys(errors).length > 0 && refused?.code === "bad_request";
  // Errors no field on screen shows (e.g. "kind" when editing): listed with the form's message.
  const shownFields = new Set([...(initial ? [] : ["kind"]), "name", ...SHOWN_SETTINGS[kind].flatMap((f) => [f, `settings.${f}`]), ...(kind === "splunk_hec" ? ["token"] : [])]);
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
            <Input id={id("kind")} value={KIND_LABELS[initial.kind]} readOnly />
          </FormField>
        ) : (
          <FormField label="Kind" htmlFor={id("kind")} error={errorFor(errors, "kind")}>
            <NativeSelect id={id("kind")} value={kind} onChange={(e) => setKind(e.target.value as SinkKind)}>
              {SINK_KINDS.map((k) => (
                <option key={k} value={k}>
                  {KIND_LABELS[k]}
                </option>
              ))}
            </NativeSelect>
          </FormField>
        )}
        <input type="hidden" name="kind" value={kind} />
      </div>

      {kind === "syslog" ? (
        <div className="grid gap-4 sm:grid-cols-3">
          <FormField label="Host" htmlFor={id("host")} error={errorFor(errors, "host")} hint="Host name or IP address of the syslog receiver.">
            <Input id={id("host")} name="host" defaultValue={value("host")} placeholder="siem.example.com" autoComplete="off" spellCheck={false} />
          </FormField>
          <FormField label="Port" htmlFor={id("port")} error={errorFor(errors, "port")}>
            <Input id={id("port")} name="port" inputMode="numeric" defaultValue={value("port") || "6514"} autoComplete="off" />
          </FormField>
          <FormField label="Transport" htmlFor={id("transport")} error={errorFor(errors, "transport")} hint="RFC 5424 with octet-counting framing.">
            <NativeSelect id={id("transport")} name="transport" defaultValue={value("transport") || "tls"}>
              <option value="tls">TLS</option>
              <option value="tcp">TCP (unencrypted)</option>
            </NativeSelect>
          </FormField>
          <FormField label="Facility" htmlFor={id("facility")} error={errorFor(errors, "facility")} hint="0 to 23; 13 is log audit.">
            <Input id={id("facility")} name="facility" inputMode="numeric" defaultValue={value("facility") || "13"} autoComplete="off" />
          </FormField>
          <FormField label="App name" htmlFor={id("appName")} error={errorFor(errors, "appName")} hint="RFC 5424 APP-NAME.">
            <Input id={id("appName")} name="appName" defaultValue={value("appName") || "custody"} autoComplete="off" spellCheck={false} />
          </FormField>
        </div>
      ) : (
        <FormField
          label={kind === "webhook" ? "HTTPS URL" : "HEC URL"}
          htmlFor={id("url")}
          error={errorFor(errors, "url")}
          hint={
            kind === "webhook"
              ? "Custody POSTs signed JSON batches here."
              : "The HEC endpoint's base, e.g. https://splunk.example.com:8088 (Custody adds /services/collector/event)."
          }
        >
          <Input
            id={id("url")}
            name="url"
            defaultValue={value("url")}
            placeholder={kind === "webhook" ? "https://siem.example.com/custody" : "https://splunk.example.com:8088"}
            className="font-mono"
            autoComplete="off"
            spellCheck={false}
          />
        </FormField>
      )}

      {kind === "splunk_hec" ? (
        <div className="grid gap-4 sm:grid-cols-3">
          <FormField
            label="HEC token"
            htmlFor={id("token")}
            error={errorFor(errors, "token")}
            hint={initial ? "Leave empty to keep the current token." : "Stored encrypted; never shown again."}
          >
            <Input id={id("token")} name="token" type="password" autoComplete="new-password" spellCheck={false} />
          </FormField>
          <FormField label="Index (optional)" htmlFor={id("index")} error={errorFor(errors, "index")} hint="Empty: the token's default index.">
            <Input id={id("index")} name="index" defaultValue={value("index")} autoComplete="off" spellCheck={false} />
          </FormField>
          <FormField label="Sourcetype" htmlFor={id("sourcetype")} error={errorFor(errors, "sourcetype")}>
            <Input id={id("sourcetype")} name="sourcetype" defaultValue={value("sourcetype") || "custody:audit"} autoComplete="off" spellCheck={false} />
          </FormField>
        </div>
      ) : null}

      <FormField
        label="CA certificate (optional)"
        htmlFor={id("caCertificate")}
        error={errorFor(errors, "caCertificate")}
        hint="PEM certificate(s) to trust for this receiver, in addition to the system's: for a private CA or Splunk's self-signed certificate."
      >
        <textarea
          id={id("caCertificate")}
          name="caCertificate"
          defaultValue={value("caCertificate")}
          className={TEXTAREA}
          placeholder="-----BEGIN CERTIFICATE-----"
          spellCheck={false}
        />
      </FormField>

      {initial?.kind === "webhook" ? (
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" name="rotateSecret" defaultChecked={checked("rotateSecret", false)} className="size-4 rounded border-input accent-primary" />
          Rotate the signing secret (the new one is shown once; deliveries are signed with it at once)
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
                  {ACTION_LABELS[a] ?? a} <span className="font-mono text-xs text-muted-foreground">{a}</span>
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
