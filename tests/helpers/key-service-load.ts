import { randomUUID } from "node:crypto";
import pg from "pg";
import { expect, vi } from "vitest";
import { api, type TenantWithKey } from "./key-service";
import { GENEROUS_MS } from "./wait";

// A vendor's application hammering the key service while something fails (the database, the
// KMS, the process itself), and what every answer it got must mean afterwards. Shared by the
// failover and fault suites.

export type Call = { requestId: string; operation: string; sentAt: number; answeredAt: number; status: number; code?: string; retryAfter: string | null };

export type Load = {
  calls: Call[];
  /** Resolves at the first 200 answered to a call sent after `since`; returns its delay. */
  firstSuccessAfter(since: number): Promise<number>;
  /** Resolves once `count` calls sent after `since` were answered with `code`. */
  answeredWith(code: string, since: number, count?: number): Promise<void>;
  stop(): Promise<void>;
};

/**
 * Client loops against the key service until stopped: singles (wrap and unwrap in turn) and
 * 1,000-item batch-unwraps, each call with its own request id. A call whose connection fails
 * (the process killed) is recorded with status 0.
 */
export function loadOn(
  target: () => string,
  tenant: TenantWithKey,
  token: string,
  edek: string,
  options: { singles: number; batches: number },
): Load {
  const calls: Call[] = [];
  let stopped = false;
  const call = async (operation: string, body: Record<string, unknown>) => {
    const requestId = `load-${randomUUID()}`;
    const withId = { ...body, metadata: { ...(body.metadata as object), requestId } };
    const sentAt = Date.now();
    try {
      const result = await api(target(), token, operation, withId);
      calls.push({ requestId, operation, sentAt, answeredAt: Date.now(), status: result.status, code: result.body.error?.code, retryAfter: result.headers.get("retry-after") });
    } catch {
      // The process being killed refuses connections: no answer, nothing to check.
      calls.push({ requestId, operation, sentAt, answeredAt: Date.now(), status: 0, retryAfter: null });
      // Paces the loop while nothing listens.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const single = async (i: number) => {
    while (!stopped) {
      if (i % 2 === 0) await call("wrap", { tenantId: tenant.tenantId, metadata: { dataLabel: "invoices" } });
      else await call("unwrap", { tenantId: tenant.tenantId, edek, metadata: { dataLabel: "invoices" } });
    }
  };
  const items = Array.from({ length: 1_000 }, () => ({ edek, dataLabel: "invoices" }));
  const batch = async () => {
    while (!stopped) await call("batch-unwrap", { tenantId: tenant.tenantId, items, metadata: {} });
  };
  const loops = [...Array.from({ length: options.singles }, (_, i) => single(i)), ...Array.from({ length: options.batches }, () => batch())];
  return {
    calls,
    async firstSuccessAfter(since) {
      let found: Call | undefined;
      await vi.waitFor(
        () => {
          found = calls.find((c) => c.sentAt >= since && c.status === 200);
          expect(found).toBeDefined();
        },
        { timeout: 60_000, interval: 20 },
      );
      return found!.answeredAt - since;
    },
    async answeredWith(code, since, count = 1) {
      await vi.waitFor(() => expect(calls.filter((c) => c.sentAt >= since && c.code === code).length).toBeGreaterThanOrEqual(count), {
        timeout: GENEROUS_MS,
        interval: 20,
      });
    },
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/**
 * Every 200 has exactly one event, a success; with `commitTimestamps` (a PostgreSQL with
 * track_commit_timestamp on) also committed before the answer arrived. With `refusals`, every
 * call answered with one of those codes has exactly one event carrying that code.
 */
export async function expectEveryAnswerAudited(
  databaseUrl: string,
  calls: Call[],
  options: { commitTimestamps?: boolean; refusals?: string[] } = {},
): Promise<void> {
  const succeeded = calls.filter((c) => c.status === 200);
  expect(succeeded.length).toBeGreaterThan(0);
  const refused = calls.filter((c) => c.code !== undefined && (options.refusals ?? []).includes(c.code));
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const committed = options.commitTimestamps ? "(extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000)::text" : "NULL";
    const { rows } = await client.query<{ request_id: string; outcome: string; code: string | null; committed_ms: string | null }>(
      `SELECT request_id, outcome::text AS outcome, details->>'code' AS code, ${committed} AS committed_ms
         FROM audit_events WHERE request_id = ANY($1::text[])`,
      [[...succeeded, ...refused].map((c) => c.requestId)],
    );
    const byId = new Map<string, typeof rows>();
    for (const row of rows) byId.set(row.request_id, [...(byId.get(row.request_id) ?? []), row]);
    const problems: string[] = [];
    for (const c of succeeded) {
      const events = byId.get(c.requestId) ?? [];
      if (events.length !== 1) problems.push(`${c.requestId}: ${events.length} events`);
      else if (events[0]!.outcome !== "success") problems.push(`${c.requestId}: outcome ${events[0]!.outcome}`);
      // Commit timestamps have microseconds; the answer's time is whole milliseconds, taken after it arrived.
      else if (events[0]!.committed_ms !== null && Math.floor(Number(events[0]!.committed_ms)) > c.answeredAt) problems.push(`${c.requestId}: committed after the answer`);
    }
    for (const c of refused) {
      const events = byId.get(c.requestId) ?? [];
      if (events.length !== 1 || events[0]!.code !== c.code) problems.push(`${c.requestId} (${c.code}): ${JSON.stringify(events)}`);
    }
    expect(problems).toEqual([]);
  } finally {
    await client.end();
  }
}

/** Each status the key service documents for the code; 503s carry Retry-After. */
const STATUS_OF: Record<string, number> = {
  unavailable: 503,
  kms_throttled: 503,
  kms_unreachable: 503,
  kms_denied: 502,
  access_revoked: 403,
  unauthenticated: 401,
};

/** Every call is a 200, a connection refused (status 0: the process was killed), or one of `allowed` with its documented status. */
export function expectOnlyCleanRefusals(calls: Call[], allowed: string[] = ["unavailable"]): void {
  const bad = calls.filter((c) => c.status !== 200 && c.status !== 0 && !(allowed.includes(c.code ?? "") && STATUS_OF[c.code ?? ""] === c.status));
  expect(bad.map((c) => `${c.operation} ${c.status} ${c.code}`)).toEqual([]);
  for (const c of calls.filter((c) => c.status === 503)) expect(c.retryAfter).not.toBeNull();
}
