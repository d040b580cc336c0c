import { HEALTH_PATH } from "./health";

/** The key service's paths: /api/v1 and everything under it. */
const API_PATH = /^\/api\/v1(?:[/?]|$)/;

/** Where a request goes: health, the key service, the "database unavailable" answer, or Next. */
export type Route = "health" | "key-service" | "database-unavailable" | "next";

/** Next's build output and public files: served from disk, no database involved. */
const STATIC_PATH = /^\/(?:_next\/static\/|favicon\.ico|icon|apple-icon|robots\.txt)/;

export function routeRequest(url: string, options: { keyService: boolean; databaseReachable: boolean }): Route {
  if (HEALTH_PATH.test(url)) return "health";
  if (options.keyService && API_PATH.test(url)) return "key-service";
  // While the database is known to be away (lib/db/health.ts probes it back), a console request
  // would only fail inside Next: say so at once, with a status a client can act on. The key
  // service answers its own 503s (and must refuse what it cannot audit, whatever this says).
  if (!options.databaseReachable && !STATIC_PATH.test(url)) return "database-unavailable";
  return "next";
}
