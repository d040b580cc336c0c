import { PUBLIC_KEY_FILE } from "@/lib/audit/checkpoint-instructions";
import { deploymentSigningKey } from "@/lib/audit/signing-key";
import { refusalResponse } from "@/lib/http/public-error";
import { authedRoute, slugParams } from "@/lib/http/route";

// GET: the deployment's checkpoint public key (SPKI PEM), as a file.
export const GET = authedRoute({ name: "checkpoint public key", access: "member", params: slugParams }, async () => {
  const key = deploymentSigningKey();
  if (!key) return refusalResponse("unavailable", "This deployment has no checkpoint signing key configured.");
  return new Response(key.publicKeyPem, {
    headers: {
      "content-type": "application/x-pem-file",
      "content-disposition": `attachment; filename="${PUBLIC_KEY_FILE}"`,
      "cache-control": "no-store",
    },
  });
});
