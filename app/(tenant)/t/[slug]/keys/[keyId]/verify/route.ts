import { z } from "zod";
import { parseEnv } from "@/lib/config";
import { authedRoute } from "@/lib/http/route";
import { verifyStream } from "@/lib/keys/verify-stream";

const params = z.object({ slug: z.string(), keyId: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i) });

// POST: runs "Verify access" on one key and streams its progress and result as JSON lines
// (lib/keys/verify-stream.ts): verify keeps trying for up to KMS_VERIFY_WAIT_SECONDS (five
// minutes by default) while AWS may still
// be applying a new grant or key-policy statement. Members only (404 for anyone else);
// lib/keys refuses non-admins and audits it. Headers as for the integrity check's stream.
export const POST = authedRoute({ name: "key verification", access: "member", params }, async ({ request, caller, tenant, params: { keyId } }) => {
  const waitMs = parseEnv(process.env, "keyservice").KMS_VERIFY_WAIT_SECONDS * 1000;
  return new Response(verifyStream(caller, { tenantId: tenant.id, kmsKeyId: keyId }, request.signal, waitMs), {
    headers: { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-store, no-transform", "x-accel-buffering": "no" },
  });
});
