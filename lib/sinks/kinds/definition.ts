import type { z } from "zod";
import type { SinkEvent, TransportOptions } from "../types";

// What Custody knows about one kind of log sink, in one place (lib/sinks/kinds/<kind>.ts): the
// settings it stores, how its secret is handled, the form's fields, where its events go (in
// words) and how a batch is sent. Everything kind-specific elsewhere is derived from the
// registry of these (lib/sinks/kinds/index.ts): the input schemas, the form, the status page,
// the transport configuration.

/** What the deployment allows in a sink's settings (lib/sinks/policy.ts). */
export type SinkInputPolicy = { allowHttp: boolean };

/** A sink's transport configuration, secret included: only ever held in memory. */
export type SinkConfigBase = { readonly kind: string } & Readonly<Record<string, unknown>>;

/** A sink's stored, non-secret settings (jsonb), as its kind's schema produced them. */
export type StoredSettings = Readonly<Record<string, unknown>>;

/**
 * How a kind's secret comes to be:
 * - `none`: the kind has none;
 * - `generated`: Custody generates it (a signing secret), shows it once on create, and again
 *   once when the admin asks for a rotation;
 * - `entered`: the admin types it into the form field `field` (a token); it is required on
 *   create, kept on edit when left empty, and never shown back.
 */
export type SecretHandling =
  | { readonly type: "none" }
  | { readonly type: "generated"; generate(): string; readonly rotateLabel: string }
  | { readonly type: "entered"; readonly field: string; readonly schema: z.ZodType<string, unknown> };

/** One form field of a kind, as plain data (the form is a client component). */
export type SinkFormField = {
  /** The form field's name; a setting's key, or the entered secret's `field`. */
  readonly name: string;
  readonly label: string;
  readonly control: "text" | "numeric" | "select" | "textarea" | "password";
  readonly hint?: string;
  /** Hint on the edit form, where it differs (an entered secret: "leave empty to keep"). */
  readonly editHint?: string;
  readonly placeholder?: string;
  /** Shown when the field has no value yet. */
  readonly initial?: string;
  readonly options?: ReadonlyArray<{ readonly value: string; readonly label: string }>;
  /** Monospaced (URLs). */
  readonly mono?: boolean;
  /** The whole row, not a column of three. */
  readonly wide?: boolean;
  /** Submitted empty means absent, so the schema's default applies. */
  readonly emptyIsAbsent?: boolean;
};

/**
 * One kind. `S` is its settings as stored, `C` its transport configuration. The functions are
 * declared as methods so that a kind's definition, written for its own S and C, is one of the
 * registry's `SinkKindDefinition`s (whose settings are checked on the way in by `settings`).
 */
export interface SinkKindDefinition<S extends StoredSettings = StoredSettings, C extends SinkConfigBase = SinkConfigBase> {
  /** Shown in the kind selector and the sink list. */
  readonly label: string;
  /** What the form accepts for its settings; what it outputs is stored. */
  settings(policy: SinkInputPolicy): z.ZodType<S, unknown>;
  readonly secret: SecretHandling;
  /** The form's fields for this kind, in order (the entered secret's among them). */
  readonly fields: readonly SinkFormField[];
  /** Where events go, for the audit trail: never a URL's path or query (they may hold a token). */
  destination(settings: S): string;
  /** Where events go, for the status page. */
  target(settings: S): string;
  /** The transport's configuration from the stored settings and the decrypted secret. */
  configOf(settings: S, secret: string | null): C;
  /** Sends one batch, in order; throws SinkDeliveryError when the receiver did not take it. */
  send(config: C, events: SinkEvent[], options: TransportOptions): Promise<void>;
}
