import { startAuditExport } from "@/lib/audit/export";
import { authedRoute, slugParams } from "@/lib/http/route";

// GET /t/<slug>/audit/export?format=csv|jsonl&<the audit page's filter>: the tenant's trail
// through the filter, streamed as a download. An API, not a page: refusals are JSON with a
// status (401 signed out, 404 not a member or no such tenant, 400 bad parameters), never a
// redirect, so the console's export button can show them.

export const dynamic = "force-dynamic";

export const GET = authedRoute(
  { name: "audit export", access: "signed-in", signedOutMessage: "Sign in to export the audit trail.", params: slugParams },
  async ({ request, caller, params: { slug } }) => {
    const exported = await startAuditExport(caller, slug, new URL(request.url).searchParams, { signal: request.signal });
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
  },
);
