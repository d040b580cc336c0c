import { AppError } from "@/lib/errors";
import { type AuditFilter, FILTER_FIELDS, parseAuditQuery } from "./filter";

/**
 * The filter of a request to the live stream or the export: only the filter fields (the page's
 * paging parameters, before / seq / limit, do not apply there), or a bad_request naming each
 * field that is wrong. `what` names the request in the message ("The export's filter…").
 */
export function readRequestFilter(params: URLSearchParams, what: string): AuditFilter {
  const only = new URLSearchParams();
  for (const field of FILTER_FIELDS) {
    const value = params.get(field);
    if (value !== null) only.set(field, value);
  }
  const { query, problems } = parseAuditQuery(only);
  if (problems.length > 0) {
    const fieldErrors: Record<string, string[]> = {};
    for (const problem of problems) (fieldErrors[problem.field] ??= []).push(problem.message);
    const summary = problems.map((p) => `${p.field}: ${p.message}`).join(" ");
    throw new AppError("bad_request", `${what} is not valid. ${summary}`, fieldErrors);
  }
  return query.filter;
}
