import { z } from "zod";
import { checkpointFileName } from "@/lib/audit/checkpoint-instructions";
import { checkpointDocumentFor } from "@/lib/audit/checkpoints";
import { authedRoute } from "@/lib/http/route";

const MAX_ID = 9_223_372_036_854_775_807n; // bigint column

const params = z.object({
  slug: z.string(),
  id: z
    .string()
    .regex(/^[1-9]\d{0,18}$/)
    .transform(BigInt)
    .refine((id) => id <= MAX_ID),
});

// GET: one of the tenant's checkpoints as a JSON file (statement + base64 signature).
export const GET = authedRoute({ name: "checkpoint download", access: "member", params }, async ({ caller, tenant, params: { id } }) => {
  const doc = await checkpointDocumentFor(caller, tenant.id, id);
  return new Response(`${JSON.stringify(doc, null, 2)}\n`, {
    headers: {
      "content-type": "application/json; charset=utf-8",
      "content-disposition": `attachment; filename="${checkpointFileName(tenant.slug, doc.seq)}"`,
      "cache-control": "no-store",
    },
  });
});
