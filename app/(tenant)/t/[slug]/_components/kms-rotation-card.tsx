import Link from "next/link";
import { LocalTime } from "@/components/local-time";
import { PageHeader } from "@/components/page-header";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Card, CardContent } from "@/components/ui/card";
import type { KmsRotationStatus } from "@/lib/fleet/kms-rotation";
import { RotationPolicyForm } from "./rotation-policy-form";

const count = new Intl.NumberFormat("en");
const days = (n: number) => `${count.format(n)} day${n === 1 ? "" : "s"}`;

/** The tenant's KMS-key rotation: its policy, how its primary key stands, and what to do once it is overdue. */
export function KmsRotationCard({ tenantId, slug, status, canEdit }: { tenantId: string; slug: string; status: KmsRotationStatus; canEdit: boolean }) {
  const { key, policyDays, dueAt, overdueDays } = status;
  return (
    <Card data-testid="kms-rotation">
      <CardContent className="space-y-4 pt-6">
        <PageHeader
          title="KMS key rotation"
          description={
            policyDays === null
              ? "No rotation policy: Custody does not remind you to rotate your KMS key."
              : `Your policy: rotate the primary KMS key every ${days(policyDays)}, counted from its registration with Custody. Once it is older, Custody says so here and records a "KMS key rotation overdue" event in your audit trail (your log sinks receive it).`
          }
        />
        {key && overdueDays !== null && dueAt ? (
          <Alert className="border-warning-border bg-warning-muted text-warning-text" data-testid="kms-rotation-overdue">
            <AlertTitle>Your KMS key is due for rotation</AlertTitle>
            <AlertDescription className="space-y-2">
              <p>
                The primary KMS key, {key.providerLabel}
                {key.location ? ` (${key.location})` : ""} <span className="font-mono break-all">{key.keyRef}</span>, was registered{" "}
                <LocalTime value={key.registeredAt} />: it is {days(key.ageDays)} old, {overdueDays === 0 ? "due today" : `${days(overdueDays)} past`} your {policyDays === null ? "" : days(policyDays)} policy.
              </p>
              <ol className="list-decimal space-y-1 pl-5">
                <li>Register a new KMS key on the Keys page.</li>
                <li>Verify it, so it becomes the primary key.</li>
                <li>Re-wrap your tenant keys under the new key; once nothing depends on the old key, retire it.</li>
              </ol>
              <p>
                <Link className="font-medium underline underline-offset-4" href={`/t/${slug}/keys`}>
                  Go to Keys →
                </Link>
              </p>
            </AlertDescription>
          </Alert>
        ) : key ? (
          <p className="text-sm text-muted-foreground" data-testid="kms-rotation-state">
            The primary KMS key, {key.providerLabel} <span className="font-mono break-all">{key.keyRef}</span>, is {days(key.ageDays)} old
            {dueAt ? (
              <>
                ; rotation is due <LocalTime value={dueAt} />.
              </>
            ) : (
              "."
            )}
          </p>
        ) : (
          <p className="text-sm text-muted-foreground" data-testid="kms-rotation-state">
            No primary KMS key yet: register and verify one on the Keys page.
          </p>
        )}
        {canEdit ? <RotationPolicyForm tenantId={tenantId} days={policyDays} /> : null}
      </CardContent>
    </Card>
  );
}
