import { z } from "zod";
import { fleetStampFor } from "@/lib/fleet/fleet-stamp";
import { authedRoute } from "@/lib/http/route";

// GET: the fleet's stamp (lib/fleet/fleet-stamp.ts), which the vendor's Tenants page polls to
// re-render as soon as a tenant's state changes. Vendor admins only; anyone else gets a 404.
export const GET = authedRoute(
  { name: "fleet stamp", access: "signed-in", signedOutMessage: "Sign in to see the fleet.", params: z.object({}) },
  async ({ caller }) => Response.json({ stamp: await fleetStampFor(caller) }, { headers: { "cache-control": "no-store" } }),
);
