import { checkpointFileName } from "@/lib/audit/integrity/checkpoint-instructions";
import { checkpointDocumentFor } from "@/lib/audit/integrity/checkpoints";
import { isAppError } from "@/lib/errors";
import { notFoundResponse, routeMember } from "../../route-member";

const MAX_ID = 9_223_372_036_854_775_807n; // bigint column

// GET: one of the tenant's checkpoints as a JSON file (statement + base64 signature).
export async function GET(_request: Request, { params }: { params: Promise<{ slug: string; id: string }> }) {
  const { slug, id } = await params;
  const member = await routeMember(slug);
  if (!member || !/^[1-9]\d{0,18}$/.test(id) || BigInt(id) > MAX_ID) return notFoundResponse();
  try {
    const doc = await checkpointDocumentFor(member.caller, member.tenant.id, BigInt(id));
    return new Response(`${JSON.stringify(doc, null, 2)}\n`, {
      headers: {
        "content-type": "application/json; charset=utf-8",
        "content-disposition": `attachment; filename="${checkpointFileName(member.tenant.slug, doc.seq)}"`,
        "cache-control": "no-store",
      },
    });
  } catch (error) {
    if (isAppError(error) && error.code === "not_found") return notFoundResponse();
    throw error;
  }
}
