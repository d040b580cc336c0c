import { z } from "zod";
import { TEXT_LIMITS, tooLongMessage } from "@/lib/validation/limits";

// What the vendor's fleet table can be asked for, in the page's query string. The table is
// sorted, filtered and paged by the database, so a fleet of ten thousand tenants costs one
// page of rows.

export const FLEET_STATES = ["none", "pending", "active", "failing", "revoked"] as const;
export type FleetState = (typeof FLEET_STATES)[number];

export const FLEET_SORTS = ["attention", "name", "created", "last_verified", "last_use", "operations", "refusals"] as const;
export type FleetSort = (typeof FLEET_SORTS)[number];

export const FLEET_PAGE_SIZE = 50;

/** No control, format or line-separator characters: what no tenant name or slug holds. */
const VISIBLE_TEXT = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$/u;

/** A tenant id, as the search box takes one. */
export const TENANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const fleetQuerySchema = z.object({
  // Visible text only, as tenant names are: a NUL would otherwise reach PostgreSQL, which refuses it.
  q: z.string().trim().max(TEXT_LIMITS.search, tooLongMessage(TEXT_LIMITS.search)).regex(VISIBLE_TEXT, "Search for visible characters only.").default(""),
  state: z.enum(FLEET_STATES).optional(),
  sort: z.enum(FLEET_SORTS).default("attention"),
  dir: z.enum(["asc", "desc"]).optional(),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
});

export type FleetQuery = z.infer<typeof fleetQuerySchema>;

/** The direction each column sorts in until the person flips it: the most telling rows first. */
export const DEFAULT_DIRECTION: Record<FleetSort, "asc" | "desc"> = {
  attention: "asc",
  name: "asc",
  created: "desc",
  last_verified: "asc",
  last_use: "desc",
  operations: "desc",
  refusals: "desc",
};

export type ParsedFleetQuery = { query: FleetQuery; ignored: string[] };

/**
 * Reads the table's parameters from a page's search params. A parameter that does not parse
 * (a hand-edited URL, an old bookmark) falls back to its default and is named in `ignored`, so
 * the page can say so instead of failing.
 */
export function parseFleetQuery(params: Record<string, string | string[] | undefined>): ParsedFleetQuery {
  const single = (name: string) => {
    const value = params[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const raw: Record<string, string | undefined> = {};
  for (const name of Object.keys(fleetQuerySchema.shape)) {
    const value = single(name);
    if (value !== undefined && value !== "") raw[name] = value;
  }
  const ignored: string[] = [];
  const parsed = fleetQuerySchema.safeParse(raw);
  if (parsed.success) return { query: parsed.data, ignored };
  for (const issue of parsed.error.issues) {
    const name = String(issue.path[0]);
    if (!ignored.includes(name)) ignored.push(name);
    delete raw[name];
  }
  return { query: fleetQuerySchema.parse(raw), ignored };
}

/** The query string for a table state, leaving out defaults so URLs stay short. */
export function fleetHref(query: FleetQuery, change: Partial<FleetQuery> = {}): string {
  const next = { ...query, ...change };
  const search = new URLSearchParams();
  if (next.q) search.set("q", next.q);
  if (next.state) search.set("state", next.state);
  if (next.sort !== "attention") search.set("sort", next.sort);
  if (next.dir && next.dir !== DEFAULT_DIRECTION[next.sort]) search.set("dir", next.dir);
  if (next.page > 1) search.set("page", String(next.page));
  const text = search.toString();
  return text ? `/vendor?${text}` : "/vendor";
}
