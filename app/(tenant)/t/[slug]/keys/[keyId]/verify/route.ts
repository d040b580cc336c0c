import { getConfig } from "@/lib/config";
import { verifyStream } from "@/lib/keys/verify-stream";
import { crossSite } from "@/lib/http/same-origin";
import { notFoundResponse, routeMember } from "../../../audit/integrity/route-member";

// POST: runs "Verify access" on one key and streams its progress and result as JSON lines
// (lib/keys/verify-stream.ts): verify keeps trying for up to KMS_VERIFY_WAIT_SECONDS (five
// minutes by default) while AWS may still
// be applying a new grant or key-policy statement. Members only (404 for anyone else);
// lib/keys refuses non-admins and audits it. Headers as for the integrity check's stream.
export async function POST(request: Request, { params }: { params: Promise<{ slug: string; keyId: string }> }) {
  const { slug, keyId } = await params;
  if (crossSite(request.headers)) return Response.json({ error: { code: "forbidden", message: "Cross-site request refused." } }, { status: 403 });
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(keyId)) return notFoundResponse();
  const member = await routeMember(slug);
  if (!member) return notFoundResponse();
  const waitMs = getConfig().KMS_VERIFY_WAIT_SECONDS * 1000;
  return new Response(verifyStream(member.caller, { tenantId: member.tenant.id, kmsKeyId: keyId }, request.signal, waitMs), {
    headers: { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-store, no-transform", "x-accel-buffering": "no" },
  });
}
