import { cookies } from "next/headers";
import { openLiveAuditView } from "@/lib/audit/live-view";
import { authedRoute, slugParams } from "@/lib/http/route";

// GET /t/<slug>/audit/stream?<the audit page's filter>&after=<seq>: the tenant's trail as
// Server-Sent Events, from just after `after` (or the Last-Event-ID a browser sends when it
// reconnects by itself; with neither, from now). An API, not a page: refusals are JSON with a
// status (401 signed out, 404 not a member or no such tenant, 400 bad parameters, 503 too
// many streams), never a redirect.
//
// Nothing between here and the browser holds events back: lib/server/http-server.ts hands the
// request to Next, which writes each chunk of the body as it comes. Next would gzip an event
// stream (text/event-stream is compressible) but skips a response marked
// `Cache-Control: no-transform`, so the browser and any proxy see plain, line-framed events;
// `X-Accel-Buffering: no` asks a reverse proxy (nginx) not to buffer it either.

export const dynamic = "force-dynamic";

const SESSION_COOKIES = ["__Secure-next-auth.session-token", "next-auth.session-token"];

export const GET = authedRoute(
  { name: "audit stream", access: "signed-in", signedOutMessage: "Sign in to follow the audit trail.", params: slugParams },
  async ({ request, caller, params: { slug } }) => {
    const jar = await cookies();
    const sessionToken = SESSION_COOKIES.map((name) => jar.get(name)?.value).find(Boolean) ?? null;
    const body = await openLiveAuditView(caller, slug, new URL(request.url).searchParams, {
      lastEventId: request.headers.get("last-event-id"),
      sessionToken,
      signal: request.signal,
    });
    return new Response(body, {
      headers: {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache, no-transform",
        "X-Accel-Buffering": "no",
        "X-Content-Type-Options": "nosniff",
      },
    });
  },
);
