import { PUBLIC_KEY_FILE } from "@/lib/audit/integrity/checkpoint-instructions";
import { deploymentSigningKey } from "@/lib/audit/integrity/signing-key";
import { notFoundResponse, routeMember } from "../route-member";

// GET: the deployment's checkpoint public key (SPKI PEM), as a file.
export async function GET(_request: Request, { params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  if (!(await routeMember(slug))) return notFoundResponse();
  const key = deploymentSigningKey();
  if (!key) return Response.json({ error: { code: "unavailable", message: "This deployment has no checkpoint signing key configured." } }, { status: 503 });
  return new Response(key.publicKeyPem, {
    headers: {
      "content-type": "application/x-pem-file",
      "content-disposition": `attachment; filename="${PUBLIC_KEY_FILE}"`,
      "cache-control": "no-store",
    },
  });
}
