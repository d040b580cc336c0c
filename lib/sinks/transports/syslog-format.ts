import type { SinkEvent } from "../types";

// RFC 5424 syslog messages for audit events, one per event:
//   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [custody@32473 id="…" chain="…" …] BOM{json}
// The structured data carries the fields a SIEM filters on; MSG carries the whole event as
// JSON, after the UTF-8 byte order mark RFC 5424 §6.4 requires of a UTF-8 MSG. Framing is
// octet counting (RFC 6587 §3.4.1), so values may contain any character, newlines included.

/**
 * The SD-ID: a private one (`name@<PEN>`, RFC 5424 §7.2.2). 32473 is the Private Enterprise
 * Number IANA reserves for documentation (RFC 5612); a deployment that registers its own PEN
 * changes it here, and receivers match on this exact ID.
 */
export const SD_ID = "custody@32473";

/** success → notice, denied → warning, failure → error (RFC 5424 §6.2.1 severities). */
export function severityOf(outcome: string): number {
  if (outcome === "failure") return 3;
  if (outcome === "denied") return 4;
  return 5;
}

/** PRINTUSASCII (33–126) only, at most `max` characters; NILVALUE "-" if nothing is left. */
export function headerField(text: string | null | undefined, max: number): string {
  const kept = (text ?? "").replace(/[^\x21-\x7e]/g, "").slice(0, max);
  return kept === "" ? "-" : kept;
}

/** RFC 5424 §6.3.3: inside a PARAM-VALUE, `"`, `\` and `]` are escaped with a backslash. */
export function escapeParamValue(value: string): string {
  // Control characters (CR, LF, NUL…) become spaces: octet counting frames them safely, but
  // receivers and SIEMs that split on line breaks would see extra lines. The exact value is in
  // the JSON message.
  return value.replace(/[\u0000-\u001f\u007f]/g, " ").replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** The SD-PARAMs, in this order; a null field is left out rather than sent as "". */
const PARAMS: Array<[name: string, pick: (event: SinkEvent) => string | null]> = [
  ["id", (e) => e.id],
  ["chain", (e) => e.chain],
  ["seq", (e) => e.seq],
  ["action", (e) => e.action],
  ["outcome", (e) => e.outcome],
  ["tenantId", (e) => e.tenantId],
  ["actorType", (e) => e.actorType],
  ["actorId", (e) => e.actorId],
  ["actorLabel", (e) => e.actorLabel],
  ["targetType", (e) => e.targetType],
  ["targetId", (e) => e.targetId],
  ["requestId", (e) => e.requestId],
  ["sourceIp", (e) => e.sourceIp],
  ["hash", (e) => e.hash],
];

/** SD-NAME (RFC 5424 §6.3.3): 1–32 PRINTUSASCII except `=`, space, `]` and `"`. */
export function isSdName(name: string): boolean {
  return /^[\x21-\x7e]{1,32}$/.test(name) && !/[= \]"]/.test(name);
}

export function structuredData(event: SinkEvent): string {
  const params = PARAMS.flatMap(([name, pick]) => {
    const value = pick(event);
    return value === null ? [] : [` ${name}="${escapeParamValue(value)}"`];
  });
  return `[${SD_ID}${params.join("")}]`;
}

export type SyslogHeader = { facility: number; appName: string; hostname: string; procId: string };

/** TIMESTAMP: the event's time in UTC with milliseconds, or NILVALUE if it cannot be read. */
function timestampOf(occurredAt: string): string {
  const ms = Date.parse(occurredAt);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : "-";
}

export function formatSyslogMessage(event: SinkEvent, header: SyslogHeader): string {
  const pri = header.facility * 8 + severityOf(event.outcome);
  return [
    `<${pri}>1`,
    timestampOf(event.occurredAt),
    headerField(header.hostname, 255),
    headerField(header.appName, 48),
    headerField(header.procId, 128),
    headerField(event.action, 32),
    `${structuredData(event)} \uFEFF${JSON.stringify(event)}`,
  ].join(" ");
}

/** RFC 6587 §3.4.1 octet counting: `MSG-LEN SP SYSLOG-MSG`, the length in bytes. */
export function frameOctetCounted(message: string): Buffer {
  const bytes = Buffer.from(message, "utf8");
  return Buffer.concat([Buffer.from(`${bytes.length} `, "ascii"), bytes]);
}
