// One rule for the length of text people type into the console: each field's limit is defined
// here once, used by its zod schema (the server's check) and by its form's help text, and
// stated in the same words everywhere. The browser never cuts input short (inputs carry no
// `maxLength`, which silently truncates pasted text): longer input is refused with
// `tooLongMessage`, next to the field, and nothing changes.

export const TEXT_LIMITS = {
  /** Names people give things: tenants, log sinks, service credentials. */
  name: 100,
  /** A tenant's URL name. */
  slug: 40,
  /** Email addresses (RFC 5321's path limit). */
  email: 254,
  /** Receiver URLs. */
  url: 2048,
  /** Search boxes (the vendor's fleet table). */
  search: 100,
} as const;

/** The error for input over `max` characters. */
export function tooLongMessage(max: number): string {
  return `Use at most ${max} characters.`;
}

/** The help text that states a field's limit, after what the field is for. */
export function limitHint(max: number, purpose?: string): string {
  return purpose ? `${purpose} At most ${max} characters.` : `At most ${max} characters.`;
}
