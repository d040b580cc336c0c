import "server-only";
import { enteredSecretField, SINK_KINDS, sinkKind, type SinkKindRegistry } from "@/lib/sinks/kinds";
import { actionField, KNOWN_ACTIONS, outcomeField, SINK_OUTCOMES } from "./sink-form-names";

// How the sink forms' flat fields map to the data layer's input (lib/validation/sinks.ts), for
// the server actions: the kind's settings are its form fields (lib/sinks/kinds), bar its
// entered secret, which goes beside them.

const text = (form: FormData, name: string): string | undefined => {
  const value = form.get(name);
  return typeof value === "string" ? value : undefined;
};

/** The form's fields as the nested input createSink/updateSink parse; validation stays theirs. */
export function sinkInputOf(form: FormData, kinds: SinkKindRegistry = SINK_KINDS) {
  const kind = text(form, "kind");
  const definition = kind === undefined ? null : sinkKind(kinds, kind);
  const secretField = definition ? enteredSecretField(definition.secret) : null;
  const settings = Object.fromEntries(
    (definition?.fields ?? [])
      .filter((field) => field.name !== secretField)
      .map((field) => [field.name, field.emptyIsAbsent ? text(form, field.name) || undefined : text(form, field.name)]),
  );
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
    ...(secretField ? { [secretField]: text(form, secretField) } : {}),
    rotateSecret: form.get("rotateSecret") === "on",
  };
}
