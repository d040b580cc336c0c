import { AUDIT_ACTIONS } from "@/lib/audit/actions";
// Types only: lib/validation/sinks uses node:crypto and node:net, which client components cannot load.
import type { SinkKind, SinkOutcome } from "@/lib/validation/sinks";

// How the sink forms' flat fields map to the data layer's input (lib/validation/sinks.ts), for
// both the server actions and the forms. Each filter choice is its own checkbox field, so a
// refused submission gives every choice back (a repeated field name would keep only one).
// The forms (client components) import this module too.

export const KIND_LABELS: Record<SinkKind, string> = { webhook: "Webhook", syslog: "Syslog", splunk_hec: "Splunk HEC" };
export const OUTCOME_LABELS: Record<SinkOutcome, string> = { success: "Success", denied: "Denied", failure: "Failure" };
export const SINK_KINDS = Object.keys(KIND_LABELS) as SinkKind[];
export const SINK_OUTCOMES = Object.keys(OUTCOME_LABELS) as SinkOutcome[];
export const KNOWN_ACTIONS: readonly string[] = Object.values(AUDIT_ACTIONS);

export const actionField = (action: string) => `action:${action}`;
export const outcomeField = (outcome: string) => `outcome:${outcome}`;

const text = (form: FormData, name: string): string | undefined => {
  const value = form.get(name);
  return typeof value === "string" ? value : undefined;
};

/** The form's fields as the nested input createSink/updateSink parse; validation stays theirs. */
export function sinkInputOf(form: FormData) {
  const kindField = text(form, "kind");
  const kind = (SINK_KINDS as string[]).includes(kindField ?? "") ? (kindField as SinkKind) : kindField;
  const settings: Record<string, unknown> =
    kind === "syslog"
      ? {
          host: text(form, "host"),
          port: text(form, "port"),
          transport: text(form, "transport"),
          caCertificate: text(form, "caCertificate"),
          facility: text(form, "facility") || undefined,
          appName: text(form, "appName") || undefined,
        }
      : kind === "splunk_hec"
        ? {
            url: text(form, "url"),
            caCertificate: text(form, "caCertificate"),
            index: text(form, "index"),
            sourcetype: text(form, "sourcetype") || undefined,
          }
        : { url: text(form, "url"), caCertificate: text(form, "caCertificate") };
  return {
    tenantId: text(form, "tenantId"),
    sinkId: text(form, "sinkId"),
    kind,
    name: text(form, "name"),
    settings,
    filter: {
      actions: KNOWN_ACTIONS.filter((a) => form.get(actionField(a)) === "on"),
      outcomes: SINK_OUTCOMES.filter((o) => form.get(outcomeField(o)) === "on"),
    },
    token: text(form, "token"),
    rotateSecret: form.get("rotateSecret") === "on",
  };
}

/** The first error for a form field, from the data layer's dotted paths (settings.url, filter.actions.3, …). */
export function errorFor(errors: Record<string, string[]> | undefined, field: string): string | undefined {
  if (!errors) return undefined;
  const paths =
    field === "actions" || field === "outcomes"
      ? Object.keys(errors).filter((k) => k === `filter.${field}` || k.startsWith(`filter.${field}.`))
      : [field, `settings.${field}`];
  for (const path of paths) if (errors[path]?.[0]) return errors[path][0];
  return undefined;
}
