import { integrityStream } from "@/lib/audit/integrity-stream";
import { authedRoute, slugParams } from "@/lib/http/route";

// POST: runs "Verify integrity" and streams its progress and result as JSON lines
// (lib/audit/integrity-stream.ts). POST because each run is recorded in the trail.
// `no-transform` keeps Next's response compression off (gzip would hold progress lines back in
// its buffer); `X-Accel-Buffering: no` asks a reverse proxy not to buffer either.
export const POST = authedRoute({ name: "integrity check", access: "member", params: slugParams }, async ({ request, caller, tenant }) =>
  new Response(integrityStream(caller, tenant.id, request.signal), {
    headers: { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-store, no-transform", "x-accel-buffering": "no" },
  }),
);
