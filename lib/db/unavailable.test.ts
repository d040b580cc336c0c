import { describe, expect, it } from "vitest";
import { isDatabaseUnavailable } from "./unavailable";

// The shapes an outage takes, as recorded from node-postgres and Prisma 7 (driver adapter
// @prisma/adapter-pg) during the failover suite's restarts, and errors that are not outages.

function pgError(code: string, message: string, severity = "FATAL") {
  return Object.assign(new Error(message), { code, severity });
}

function prismaKnown(code: string, message: string, meta?: Record<string, unknown>) {
  return Object.assign(new Error(message), { name: "PrismaClientKnownRequestError", code, clientVersion: "7.10.0", meta });
}

describe("isDatabaseUnavailable", () => {
  it.each([
    ["a server shutting down (57P01)", pgError("57P01", "terminating connection due to administrator command")],
    ["a server starting (57P03)", pgError("57P03", "the database system is starting up")],
    ["a crash (57P02)", pgError("57P02", "terminating connection because of crash of another server process")],
    ["a full connection table (53300)", pgError("53300", "sorry, too many clients already")],
    ["a connection exception (08006)", pgError("08006", "connection failure")],
    ["a refused connection", Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED", errno: -111, syscall: "connect" })],
    ["a reset connection", Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET", errno: -104, syscall: "read" })],
    ["node-postgres's dropped connection", new Error("Connection terminated unexpectedly")],
    ["node-postgres's connect timeout", new Error("timeout exceeded when trying to connect")],
    ["a client after its connection failed", new Error("Client has encountered a connection error and is not queryable")],
    ["Prisma's unreachable server", prismaKnown("P1001", "Can't reach database server at 127.0.0.1:40789")],
    ["Prisma's exhausted pool", prismaKnown("P2024", "Timed out fetching a new connection from the connection pool.")],
    [
      "Prisma's raw query failing on a shutting-down server",
      prismaKnown("P2010", "Raw query failed. Code: `57P03`. Message: `the database system is shutting down`", {
        driverAdapterError: { cause: { kind: "postgres", originalCode: "57P03", originalMessage: "the database system is shutting down" } },
      }),
    ],
    ["an adapter error for a closed connection", prismaKnown("P2010", "Raw query failed.", { driverAdapterError: { cause: { kind: "ConnectionClosed" } } })],
    ["an outage wrapped as a cause", new Error("could not load", { cause: pgError("57P01", "terminating connection") })],
  ])("is true for %s", (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ["a unique violation", pgError("23505", "duplicate key value violates unique constraint", "ERROR")],
    ["a syntax error", pgError("42601", "syntax error at or near", "ERROR")],
    ["Prisma's unique violation", prismaKnown("P2002", "Unique constraint failed")],
    ["a check violation through the adapter", prismaKnown("P2010", "Raw query failed.", { driverAdapterError: { cause: { kind: "postgres", originalCode: "23514" } } })],
    ["a plain error", new Error("something else")],
    ["a string", "Connection terminated"],
    ["nothing", undefined],
  ])("is false for %s", (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });

  it("does not loop on a cause cycle", () => {
    const a = new Error("a") as Error & { cause?: unknown };
    const b = new Error("b", { cause: a });
    a.cause = b;
    expect(isDatabaseUnavailable(a)).toBe(false);
  });
});
