import { SinkDeliveryError, type SinkTransport } from "../types";
import type { SecretHandling, SinkConfigBase, SinkFormField, SinkKindDefinition, StoredSettings } from "./definition";
import { splunkHecKind } from "./splunk-hec";
import { syslogKind } from "./syslog";
import { webhookKind } from "./webhook";

export type { SecretHandling, SinkConfigBase, SinkFormField, SinkInputPolicy, SinkKindDefinition, StoredSettings } from "./definition";

// The registry of sink kinds: every kind Custody can deliver to, each defined once in its own
// file. A new kind is a file beside these and one line in each of the two declarations below
// (the `satisfies` keeps them in step). Nothing outside this folder branches on a kind.

export type SinkKind = "webhook" | "syslog" | "splunk_hec";

export const SINK_KINDS = {
  webhook: webhookKind,
  syslog: syslogKind,
  splunk_hec: splunkHecKind,
} satisfies Record<SinkKind, SinkKindDefinition>;

/** The kinds a piece of code works with: production's (SINK_KINDS), or more in a test. */
export type SinkKindRegistry = Readonly<Record<string, SinkKindDefinition>>;

/** A production sink's transport configuration, secret included. */
export type SinkConfig = ReturnType<(typeof SINK_KINDS)[SinkKind]["configOf"]>;

/** The kind's definition; null for a kind the registry does not know (a row from a newer version, or a damaged one). */
export function sinkKind(kinds: SinkKindRegistry, kind: string): SinkKindDefinition | null {
  return Object.hasOwn(kinds, kind) ? kinds[kind]! : null;
}

/** The kind's name for people; the stored name itself for a kind the registry does not know. */
export function sinkKindLabel(kinds: SinkKindRegistry, kind: string): string {
  return sinkKind(kinds, kind)?.label ?? kind;
}

/** The form field that carries a kind's entered secret, if it has one. */
export function enteredSecretField(secret: SecretHandling): string | null {
  return secret.type === "entered" ? secret.field : null;
}

/** Every form field name that carries an entered secret: never echoed back to a browser. */
export function secretFieldNames(kinds: SinkKindRegistry = SINK_KINDS): string[] {
  return [...new Set(Object.values(kinds).flatMap((kind) => enteredSecretField(kind.secret) ?? []))];
}

/** A kind as the (client-side) form needs it: plain data. */
export type SinkKindForm = {
  kind: string;
  label: string;
  fields: readonly SinkFormField[];
  /** The label of the "rotate the secret" checkbox, for kinds whose secret Custody generates. */
  rotateLabel: string | null;
};

export function sinkKindForms(kinds: SinkKindRegistry = SINK_KINDS): SinkKindForm[] {
  return Object.entries(kinds).map(([kind, definition]) => ({
    kind,
    label: definition.label,
    fields: definition.fields,
    rotateLabel: definition.secret.type === "generated" ? definition.secret.rotateLabel : null,
  }));
}

/** "webhook, syslog or Splunk HEC": the kinds in a sentence (one-word labels in lower case). */
export function kindsInWords(kinds: SinkKindRegistry = SINK_KINDS): string {
  const words = Object.values(kinds).map(({ label }) => (/^[A-Z][a-z]+$/.test(label) ? label.toLowerCase() : label));
  return words.length > 1 ? `${words.slice(0, -1).join(", ")} or ${words.at(-1)}` : (words[0] ?? "");
}

/** Where a stored sink's events go, for the audit trail and for the status page. */
export function destinationOf(kinds: SinkKindRegistry, kind: string, settings: StoredSettings): { audit: string; shown: string } {
  const definition = sinkKind(kinds, kind);
  if (!definition) return { audit: "", shown: "—" };
  return { audit: definition.destination(settings), shown: definition.target(settings) };
}

/** The kind's definition, for sending: a row written by a newer version, or a damaged one, cannot be sent, and retrying cannot help. */
function deliverableKind(kinds: SinkKindRegistry, kind: string): SinkKindDefinition {
  const definition = sinkKind(kinds, kind);
  if (!definition) throw new SinkDeliveryError(`Unknown sink kind "${kind.slice(0, 32)}".`, false);
  return definition;
}

/** The transport configuration of a stored sink (its secret decrypted by the caller). */
export function sinkConfigOf(kinds: SinkKindRegistry, kind: string, settings: StoredSettings, secret: string | null): SinkConfigBase {
  return deliverableKind(kinds, kind).configOf(settings, secret);
}

/** Sends one batch to one sink of any of the registry's kinds; throws SinkDeliveryError when not accepted. */
export function sendBatchWith(kinds: SinkKindRegistry): SinkTransport {
  return async (config, events, options) => {
    if (events.length === 0) return;
    return deliverableKind(kinds, config.kind).send(config, events, options);
  };
}

/**
 * The secret a create or an edit stores (null: none, or on an edit keep the stored one) and the
 * one to show, once: only a secret Custody generated; an entered one is never shown back.
 */
export function secretOf(
  handling: SecretHandling,
  input: Readonly<Record<string, unknown>>,
  change: "create" | "update",
): { store: string | null; show: string | null } {
  if (handling.type === "generated") {
    const generated = change === "create" || input.rotateSecret === true ? handling.generate() : null;
    return { store: generated, show: generated };
  }
  const entered = handling.type === "entered" ? input[handling.field] : undefined;
  return { store: typeof entered === "string" ? entered : null, show: null };
}
