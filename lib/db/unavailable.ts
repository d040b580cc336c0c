// Whether an error means "the database cannot be reached right now" (a restart, a failover, a
// dropped connection, a full connection table), as opposed to a query the database refused.
// Those are answered 503 with Retry-After, not 500: the request was fine and will work again.
//
// The same outage reaches Custody in several shapes: node-postgres errors (socket errors, SQLSTATE
// class 08, 57P01–57P03 from a shutting-down server, "Connection terminated"), and Prisma's, which
// wrap the driver adapter's error (P1001, P1017, P2024, or `meta.driverAdapterError.cause`).

const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ECONNABORTED"]);
/** Prisma's codes for an unreachable server, a closed connection and an exhausted pool. */
const PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);
/** The driver adapter's error kinds (@prisma/driver-adapter-utils) for the same. */
const ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);
const MESSAGES = [
  /Connection terminated/i,
  /connection error and is not queryable/i,
  /timeout exceeded when trying to connect/i,
  /Can't reach database server/i,
  /Server has closed the connection/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
];

/**
 * SQLSTATEs of an outage: class 08 (connection exception), 57P01 admin_shutdown, 57P02
 * crash_shutdown, 57P03 cannot_connect_now, 53300 too_many_connections.
 */
function isOutageSqlState(code: string): boolean {
  return code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03" || code === "53300";
}

export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0) {
    const current = pending.pop();
    if (typeof current !== "object" || current === null || seen.has(current)) continue;
    seen.add(current);
    const fields = current as { code?: unknown; kind?: unknown; originalCode?: unknown; message?: unknown; cause?: unknown; meta?: unknown };
    const code = typeof fields.code === "string" ? fields.code : "";
    if (SOCKET_CODES.has(code) || PRISMA_CODES.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && isOutageSqlState(code)) return true;
    if (typeof fields.originalCode === "string" && isOutageSqlState(fields.originalCode)) return true;
    if (typeof fields.kind === "string" && ADAPTER_KINDS.has(fields.kind)) return true;
    if (typeof fields.message === "string" && MESSAGES.some((pattern) => pattern.test(fields.message as string))) return true;
    pending.push(fields.cause);
    const meta = fields.meta as { driverAdapterError?: unknown } | undefined;
    if (meta && typeof meta === "object") pending.push(meta.driverAdapterError);
    if (current instanceof AggregateError) pending.push(...current.errors);
  }
  return false;
}

/** What a person is told while the database is away; no internals. */
export const DATABASE_UNAVAILABLE_MESSAGE = "Custody cannot reach its database right now. Nothing is lost; try again in a few seconds.";
