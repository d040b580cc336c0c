import { getPrincipal, callerFor } from "@/lib/auth/principal";
import { startAuditExport } from "@/lib/audit/export/export";
import { ERROR_STATUS, GENERIC_MESSAGE, isAppError, type ErrorCode } from "@/lib/errors";
import { errorFields, log } from "@/lib/log";

// GET /t/<slug>/audit/export?format=csv|jsonl&<the audit page's filter>: the tenant's trail
// through the filter, streamed as a download. An API, not a page: refusals are JSON with a
// status (401 signed out, 404 not a member or no such tenant, 400 bad parameters), never a
// redirect, so the console's export button can show them.

export const dynamic = "force-dynamic";

function refuse(code: ErrorCode, message: string): Response {
  return Response.json({ error: { code, message } }, { status: ERROR_STATUS[code], headers: { "Cache-Control": "no-store" } });
}

export async function GET(request: Request, { params }: { params: Promise<{ slug: string }> }): Promise<Response> {
  try {
    const principal = await getPrincipal();
    if (!principal) return refuse("unauthenticated", "Sign in to export the audit trail.");
    const { slug } = await params;
    const exported = await startAuditExport(await callerFor(principal), slug, new URL(request.url).searchParams, {
      signal: request.signal,
    });
    return new Response(exported.body, {
      headers: {
        "Content-Type": exported.contentType,
        "Content-Disposition": `attachment; filename="${exported.fileName}"`,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        // A size hint for the export button's progress; "exact" says whether it was counted.
        "X-Custody-Export-Estimate": String(exported.estimate.events),
        "X-Custody-Export-Estimate-Exact": String(exported.estimate.exact),
      },
    });
  } catch (error) {
    if (isAppError(error)) return refuse(error.code, error.message);
    log.error({ route: "audit export", ...errorFields(error) }, "audit export could not start");
    return refuse("internal", GENERIC_MESSAGE);
  }
}
