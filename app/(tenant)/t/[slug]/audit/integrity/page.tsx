import type { Metadata } from "next";
import Link from "next/link";
import { EmptyState } from "@/components/empty-state";
import { LocalTime } from "@/components/local-time";
import { PageHeader } from "@/components/page-header";
import { buttonVariants } from "@/components/ui/button";
import { Card, CardContent } from "@/components/ui/card";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { checkpointFileName, OPENSSL_COMMANDS, PUBLIC_KEY_FILE } from "@/lib/audit/integrity/checkpoint-instructions";
import { listCheckpoints } from "@/lib/audit/integrity/checkpoints";
import { deploymentSigningKey } from "@/lib/audit/integrity/signing-key";
import { loadTenantContext } from "../../tenant-context";
import { IntegrityVerifier } from "./_components/integrity-verifier";
import { SignCheckpointForm } from "./_components/sign-checkpoint-form";

export const metadata: Metadata = { title: "Audit integrity" };

export default async function IntegrityPage({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const { caller, tenant } = await loadTenantContext(slug);
  const checkpoints = await listCheckpoints(caller, tenant.id, 20);
  const key = deploymentSigningKey();
  const base = `/t/${tenant.slug}/audit/integrity`;

  return (
    <div className="space-y-6">
      <Card>
        <CardContent className="pt-6">
          <PageHeader
            title="Verify integrity"
            description="Recomputes every hash of this tenant's audit trail on the server and compares it with the recorded head and the signed checkpoints. Reports the first broken link: which event, and whether it was edited, deleted, reordered or rewritten."
            actions={
              <Link href={`/t/${tenant.slug}/audit`} className={buttonVariants({ variant: "ghost", size: "sm" })}>
                Back to the audit trail
              </Link>
            }
          />
          <IntegrityVerifier slug={tenant.slug} />
        </CardContent>
      </Card>

      <Card>
        <CardContent className="pt-6">
          <PageHeader
            title="Signed checkpoints"
            description="Custody signs the head of this trail with its deployment key every hour when it has moved, and whenever you ask. Keep a checkpoint and the public key: later, you can prove with openssl alone that the trail up to that event has not been rewritten since."
            actions={
              key ? (
                <SignCheckpointForm tenantId={tenant.id}>
                  <a href={`${base}/public-key`} download={PUBLIC_KEY_FILE} className={buttonVariants({ variant: "outline" })}>
                    Download public key
                  </a>
                </SignCheckpointForm>
              ) : null
            }
          />
          {key ? (
            <p className="mb-4 text-sm text-muted-foreground">
              Signing key id: <code className="font-mono">{key.keyId}</code> (the first 16 hex digits of the SHA-256 of the public key&apos;s DER form)
            </p>
          ) : (
            <p className="mb-4 text-sm text-destructive">This deployment has no checkpoint signing key configured.</p>
          )}
          {checkpoints.length === 0 ? (
            <EmptyState title="No checkpoints yet" description="The first is signed within the hour, or now with “Sign checkpoint now”." />
          ) : (
            <Table>
              <TableHeader>
                <TableRow>
                  <TableHead>Signed</TableHead>
                  <TableHead>Event</TableHead>
                  <TableHead>Head hash</TableHead>
                  <TableHead>Key</TableHead>
                  <TableHead className="sr-only">Download</TableHead>
                </TableRow>
              </TableHeader>
              <TableBody>
                {checkpoints.map((c) => (
                  <TableRow key={c.id.toString()} data-testid="checkpoint-row">
                    <TableCell className="whitespace-nowrap">
                      <LocalTime value={c.signedAt} withSeconds />
                    </TableCell>
                    <TableCell>#{c.seq.toString()}</TableCell>
                    <TableCell className="max-w-xs font-mono text-xs break-all">{c.headHash}</TableCell>
                    <TableCell className="font-mono text-xs">{c.keyId}</TableCell>
                    <TableCell>
                      <a href={`${base}/checkpoints/${c.id}`} download className="text-sm font-medium text-primary hover:underline">
                        Download JSON
                      </a>
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          )}
          <div className="mt-6 space-y-2 text-sm">
            <h3 className="font-medium">Checking a checkpoint yourself</h3>
            <p className="text-muted-foreground">
              A checkpoint file holds the exact statement that was signed (format, trail, event number, head hash, time, key id) and its Ed25519
              signature. With the public key and the checkpoint in one folder, run (OpenSSL 3, jq; here for the newest checkpoint, whose file is
              named after this tenant and the event number it signs):
            </p>
            <pre className="overflow-x-auto rounded-md bg-muted p-3 font-mono text-xs">{OPENSSL_COMMANDS(checkpointFileName(tenant.slug, checkpoints[0]?.seq ?? "<event number>"))}</pre>
            <p className="text-muted-foreground">
              It prints “Signature Verified Successfully”. Then compare the statement&apos;s <code>head</code> with the hash of event{" "}
              <code>seq</code> in your audit trail or an export of it: if they match, no event up to that one has been changed, removed or
              reordered since the checkpoint was signed.
            </p>
          </div>
        </CardContent>
      </Card>
    </div>
  );
}
