// Next's instrumentation hook. onRequestError sees every error a page, route handler or server
// action threw; one that says the database is unreachable switches the HTTP server to its
// "Custody cannot reach its database" answer (503) until the database is back (lib/db/health.ts).
import type { Instrumentation } from "next";
import { inNodeRuntime } from "./lib/config/build-time";

export const onRequestError: Instrumentation.onRequestError = async (error) => {
  if (!inNodeRuntime()) return;
  const { noteDatabaseError } = await import("./lib/db/health");
  noteDatabaseError(error);
};
