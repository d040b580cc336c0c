import { integrityStream } from "@/lib/audit/integrity/integrity-stream";
import { crossSite } from "@/lib/http/same-origin";
import { notFoundResponse, routeMember } from "../route-member";

// POST: runs "Verify integrity" and streams its progress and result as JSON lines
// (lib/audit/integrity-stream.ts). POST because each run is recorded in the trail.
// `no-transform` keeps Next's response compression off (gzip would hold progress lines back in
// its buffer); `X-Accel-Buffering: no` asks a reverse proxy not to buffer either.
export async function POST(request: Request, { params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  if (crossSite(request.headers)) return Response.json({ error: { code: "forbidden", message: "Cross-site request refused." } }, { status: 403 });
  const member = await routeMember(slug);
  if (!member) return notFoundResponse();
  return new Response(integrityStream(member.caller, member.tenant.id, request.signal), {
    headers: { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-store, no-transform", "x-accel-buffering": "no" },
  });
}
