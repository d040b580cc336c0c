import { z } from "zod";
import { AUDIT_ACTIONS } from "@/lib/audit/actions";
import { TEXT_LIMITS, tooLongMessage } from "./limits";
import { kindsInWords, SINK_KINDS, type SinkKindDefinition, type SinkKindRegistry, type SinkInputPolicy, type StoredSettings } from "@/lib/sinks/kinds";

// Log sinks (lib/sinks): what a tenant admin submits, shared by the sinks page's forms and the
// data layer. The kind-specific parts (settings, secret) come from the kind registry
// (lib/sinks/kinds); whether a host is reachable is decided when sending (lib/sinks/ssrf.ts).

export type { SinkInputPolicy, SinkKind } from "@/lib/sinks/kinds";
export const SINK_OUTCOMES = ["success", "denied", "failure"] as const;
export type SinkOutcome = (typeof SINK_OUTCOMES)[number];
const KNOWN_ACTIONS: readonly string[] = Object.values(AUDIT_ACTIONS);

const VISIBLE_TEXT = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$/u;
// Lower case, as PostgreSQL prints a uuid: ids are compared and used as audit chains in that form.
const idSchema = z.uuid("That is not a valid id.").transform((id) => id.toLowerCase());

export const sinkNameSchema = z
  .string({ message: "Enter a name for the sink." })
  .trim()
  .min(1, "Enter a name for the sink.")
  .max(TEXT_LIMITS.name, tooLongMessage(TEXT_LIMITS.name))
  .regex(VISIBLE_TEXT, "Use visible characters only (no control or direction-override characters).");

export const sinkFilterSchema = z.object({
  /** Only these actions; empty or absent: every action. */
  actions: z
    .array(z.string().refine((a) => KNOWN_ACTIONS.includes(a), { message: "Choose actions from the list." }))
    .max(KNOWN_ACTIONS.length)
    .default([])
    .transform((actions) => [...new Set(actions)].sort()),
  /** Only these outcomes; empty or absent: every outcome. */
  outcomes: z
    .array(z.enum(SINK_OUTCOMES, { message: "Outcomes are success, denied and failure." }))
    .default([])
    .transform((outcomes) => SINK_OUTCOMES.filter((o) => outcomes.includes(o))),
});
export type SinkFilter = z.output<typeof sinkFilterSchema>;

/**
 * A sink as submitted, once valid: the common fields, the kind's settings, and the kind's
 * secret fields (an entered secret under its field's name; a generated one's `rotateSecret`).
 */
export type ValidSinkInput = {
  readonly tenantId: string;
  readonly name: string;
  readonly kind: string;
  readonly settings: StoredSettings;
  readonly filter: SinkFilter;
  readonly [secretField: string]: unknown;
};
export type ValidCreateSink = ValidSinkInput;
export type ValidUpdateSink = ValidSinkInput & { readonly sinkId: string };

/** What createSink and updateSink take before validation (a form's fields, or a test's object). */
export type CreateSinkInput = {
  tenantId: string;
  name: string;
  kind: string;
  settings: Record<string, unknown>;
  filter?: { actions?: string[]; outcomes?: string[] };
  [secretField: string]: unknown;
};
export type UpdateSinkInput = CreateSinkInput & { sinkId: string };

type Shape = Record<string, z.ZodType>;

/** One object schema per kind, discriminated by `kind`; `secretShape` adds the kind's secret fields. */
function kindUnion<Out extends ValidSinkInput>(
  kinds: SinkKindRegistry,
  policy: SinkInputPolicy,
  common: Shape,
  secretShape: (definition: SinkKindDefinition) => Shape,
): z.ZodType<Out, unknown> {
  const [first, ...rest] = Object.entries(kinds).map(([kind, definition]) =>
    z.object({ ...common, kind: z.literal(kind), settings: definition.settings(policy), ...secretShape(definition) }),
  );
  if (!first) throw new Error("The sink kind registry is empty.");
  // Each option's output is the common fields, the kind and its settings, and its secret fields: a ValidSinkInput.
  return z.discriminatedUnion("kind", [first, ...rest], { message: `Choose ${kindsInWords(kinds)}.` }) as unknown as z.ZodType<Out, unknown>;
}

const commonFields = () => ({ tenantId: idSchema, name: sinkNameSchema, filter: sinkFilterSchema.default({ actions: [], outcomes: [] }) });

export function createSinkSchema(policy: SinkInputPolicy, kinds: SinkKindRegistry = SINK_KINDS) {
  // A generated secret is never entered; an entered one is required.
  return kindUnion<ValidCreateSink>(kinds, policy, commonFields(), ({ secret }) => (secret.type === "entered" ? { [secret.field]: secret.schema } : {}));
}

/** An edit: the kind stays; settings replace the old ones; a secret changes only when asked. */
export function updateSinkSchema(policy: SinkInputPolicy, kinds: SinkKindRegistry = SINK_KINDS) {
  return kindUnion<ValidUpdateSink>(kinds, policy, { ...commonFields(), sinkId: idSchema }, ({ secret }) => {
    if (secret.type === "generated") return { rotateSecret: z.boolean().default(false) };
    // Absent or empty: keep the stored secret.
    if (secret.type === "entered") return { [secret.field]: z.preprocess((v) => (v === "" || v === null ? undefined : v), secret.schema.optional()) };
    return {};
  });
}

export const sinkActionSchema = z.object({ tenantId: idSchema, sinkId: idSchema });
