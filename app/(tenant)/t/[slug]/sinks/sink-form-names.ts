import { AUDIT_ACTIONS } from "@/lib/audit/actions";
// Types only: lib/validation/sinks loads the kind registry (node:crypto, node:net), which client components cannot load.
import type { SinkOutcome } from "@/lib/validation/sinks";

// The sink forms' field names and labels, shared by the forms (client components), the status
// page and the server actions (sink-form-fields.ts). Each filter choice is its own checkbox
// field, so a refused submission gives every choice back (a repeated field name would keep
// only one). The kinds' own fields come from the kind registry (lib/sinks/kinds).

export const OUTCOME_LABELS: Record<SinkOutcome, string> = { success: "Success", denied: "Denied", failure: "Failure" };
export const SINK_OUTCOMES = Object.keys(OUTCOME_LABELS) as SinkOutcome[];
export const KNOWN_ACTIONS: readonly string[] = Object.values(AUDIT_ACTIONS);

export const actionField = (action: string) => `action:${action}`;
export const outcomeField = (outcome: string) => `outcome:${outcome}`;

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
