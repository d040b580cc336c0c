import "server-only";
import { z } from "zod";
import type { Caller } from "@/lib/authz";
import { callerFor, getPrincipal } from "@/lib/auth/principal";
import { findTenantForMember, type TenantContext } from "@/lib/tenants";
import { publicErrorOf, refusalResponse } from "./public-error";
import { CROSS_SITE_MESSAGE, crossSite } from "./same-origin";

// The one wrapper for the console's route handlers (app/**/route.ts; not /api/v1, the key
// service's, nor next-auth's): the same refusals, as JSON `{ error: { code, message } }` with
// the code's status (`refusalResponse`), and the same error mapping as server actions
// (`publicErrorOf`). In order:
// - a state-changing method (anything but GET and HEAD) from another origin: 403;
// - path parameters that do not parse: 404 (a path that names nothing);
// - access "member": the tenant's members only; anyone else, signed in or not, gets the same
//   404 as for a tenant that does not exist;
//   access "signed-in": 401 when signed out; the data layer decides membership (and answers
//   404 "No such tenant." itself);
// - whatever the handler throws: AppError as its code, the database away as 503, anything else
//   logged and a generic 500.

export const NOT_FOUND_MESSAGE = "Not found.";

/** The `[slug]` of a tenant route. */
export const slugParams = z.object({ slug: z.string() });

type RouteOptions<S extends z.ZodType> = {
  /** Names the route in log lines. */
  name: string;
  params: S;
} & ({ access: "member" } | { access: "signed-in"; signedOutMessage: string });

type Context<S extends z.ZodType> = { request: Request; params: z.output<S>; caller: Caller };

export function authedRoute<S extends z.ZodType<{ slug: string }>>(
  options: RouteOptions<S> & { access: "member" },
  handler: (context: Context<S> & { tenant: TenantContext }) => Promise<Response>,
): (request: Request, route: { params: Promise<unknown> }) => Promise<Response>;
export function authedRoute<S extends z.ZodType>(
  options: RouteOptions<S> & { access: "signed-in" },
  handler: (context: Context<S>) => Promise<Response>,
): (request: Request, route: { params: Promise<unknown> }) => Promise<Response>;
export function authedRoute<S extends z.ZodType>(
  options: RouteOptions<S>,
  handler: (context: Context<S> & { tenant: TenantContext }) => Promise<Response>,
): (request: Request, route: { params: Promise<unknown> }) => Promise<Response> {
  return async (request, route) => {
    try {
      if (request.method !== "GET" && request.method !== "HEAD" && crossSite(request.headers)) {
        return refusalResponse("forbidden", CROSS_SITE_MESSAGE);
      }
      const parsed = options.params.safeParse(await route.params);
      const principal = await getPrincipal();
      if (options.access === "signed-in") {
        if (!principal) return refusalResponse("unauthenticated", options.signedOutMessage);
        if (!parsed.success) return refusalResponse("not_found", NOT_FOUND_MESSAGE);
        const signedIn = handler as (context: Context<S>) => Promise<Response>;
        return await signedIn({ request, params: parsed.data, caller: await callerFor(principal) });
      }
      if (!principal || !parsed.success) return refusalResponse("not_found", NOT_FOUND_MESSAGE);
      const caller = await callerFor(principal);
      const tenant = await findTenantForMember(caller, (parsed.data as { slug: string }).slug);
      if (!tenant) return refusalResponse("not_found", NOT_FOUND_MESSAGE);
      return await handler({ request, params: parsed.data, caller, tenant });
    } catch (error) {
      const refused = publicErrorOf(error, options.name);
      return refusalResponse(refused.code, refused.message);
    }
  };
}
