import { cookies } from "next/headers";
import { callerFor, getPrincipal } from "@/lib/auth/principal";
import { openLiveAuditView } from "@/lib/audit/live/live-view";
import { ERROR_STATUS, type ErrorCode, GENERIC_MESSAGE, isAppError } from "@/lib/errors";
import { errorFields, log } from "@/lib/log";

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

function refuse(code: ErrorCode, message: string): Response {
  return Response.json(
    { error: { code, message } },
    { status: ERROR_STATUS[code], headers: { "Cache-Control": "no-store", ...(code === "unavailable" ? { "Retry-After": "10" } : {}) } },
  );
}

export async function GET(request: Request, { params }: { params: Promise<{ slug: string }> }): Promise<Response> {
  try {
    const principal = await getPrincipal();
    if (!principal) return refuse("unauthenticated", "Sign in to follow the audit trail.");
    const { slug } = await params;
    const jar = await cookies();
    const sessionToken = SESSION_COOKIES.map((name) => jar.get(name)?.value).find(Boolean) ?? null;
    const body = await openLiveAuditView(await callerFor(principal), slug, new URL(request.url).searchParams, {
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
  } catch (error) {
    if (isAppError(error)) return refuse(error.code, error.message);
    log.error({ route: "audit stream", ...errorFields(error) }, "live audit stream could not start");
    return refuse("internal", GENERIC_MESSAGE);
  }
}
