import { z } from "zod";

/** The integrity page's forms name only their tenant. */
export const tenantIdSchema = z.object({ tenantId: z.string().uuid("That is not a valid id.") });
