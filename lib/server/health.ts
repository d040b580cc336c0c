import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { checkDatabase } from "@/lib/db/health";
import { listMigrationNames } from "@/lib/db/migrate";
import { API_SECURITY_HEADERS } from "@/lib/http/security-headers";

// Health endpoints for load balancers and orchestrators, served by the node:http server itself
// (never by Next, so they answer while the database is away):
//   GET /api/health/live   200 while the process serves requests at all
//   GET /api/health/ready  200 when it can do its work: the database answers (a fresh
//                          connection, each time) with every migration this release ships
//                          applied, the key service's LISTEN connection is up where there is
//                          one, and no background job is stuck where they run; else 503
//                          naming what is not.

export const HEALTH_PATH = /^\/api\/health\/(live|ready)\/?(?:\?|$)/;

export type ReadinessChecks = {
  /** The key service's invalidation listener (revocations), where this process runs one. */
  listener?: () => boolean;
  /** The background jobs, where this process runs them: "stalled" names a run far overdue. */
  jobs?: () => "ok" | "stalled" | "stopped";
  /** The migrations this release needs (default: the folders in prisma/migrations). */
  migrations?: string[];
};

let shippedMigrations: Promise<string[]> | undefined;

/** The migrations in this release's prisma/migrations, listed once (as the migration runner lists them). */
function releaseMigrations(): Promise<string[]> {
  shippedMigrations ??= listMigrationNames(path.join(process.cwd(), "prisma", "migrations")).catch(() => []);
  return shippedMigrations;
}

export function handleHealth(req: IncomingMessage, res: ServerResponse, checks: ReadinessChecks): void {
  const which = HEALTH_PATH.exec(req.url ?? "")?.[1];
  if (req.method !== "GET" && req.method !== "HEAD") {
    answer(res, 405, { error: { code: "bad_request", message: "Use GET for this endpoint." } }, { Allow: "GET, HEAD" });
    return;
  }
  if (which === "live") {
    answer(res, 200, { status: "live" });
    return;
  }
  void Promise.resolve(checks.migrations ?? releaseMigrations()).then((migrations) => checkDatabase(migrations)).then((database) => {
    const result: Record<string, string> = { database: database.reachable ? "ok" : "unreachable" };
    if (database.missingMigrations !== null) {
      result.migrations = database.missingMigrations.length === 0 ? "ok" : `pending: ${database.missingMigrations.join(", ")}`;
    }
    if (checks.listener) result.listener = checks.listener() ? "ok" : "down";
    if (checks.jobs) result.jobs = checks.jobs();
    const ready = Object.values(result).every((value) => value === "ok");
    answer(res, ready ? 200 : 503, { status: ready ? "ready" : "unavailable", checks: result }, ready ? {} : { "Retry-After": "1" });
  });
}

function answer(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
    ...API_SECURITY_HEADERS,
    ...headers,
  });
  res.end(text);
}
