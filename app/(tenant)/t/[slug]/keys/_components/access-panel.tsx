"use client";

import { ShieldAlertIcon, ShieldCheckIcon } from "lucide-react";
import { useActionState, useState } from "react";
import { LocalTime } from "@/components/local-time";
import { SubmitButton } from "@/components/submit-button";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import {
  Dialog,
  DialogClose,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
  DialogTrigger,
} from "@/components/ui/dialog";
import { FormField } from "@/components/ui/form-field";
import { Input } from "@/components/ui/input";
import { restoreAccessAction, revokeAccessAction } from "../actions";
import { VerifySteps } from "./verify-panel";

type Props = {
  tenantId: string;
  tenantName: string;
  tenantSlug: string;
  canChange: boolean;
  hasPrimary: boolean;
  revokedAt: string | null;
  revokedBy: string | null;
  /** How to make a revocation final in the customer's own KMS, in the primary key's provider's words. */
  makeFinal: string;
};

export function AccessPanel({ tenantId, tenantName, tenantSlug, canChange, hasPrimary, revokedAt, revokedBy, makeFinal }: Props) {
  const [revokeState, revoke] = useActionState(revokeAccessAction, null);
  const [restoreState, restore] = useActionState(restoreAccessAction, null);
  const [confirmOpen, setConfirmOpen] = useState(false);
  const [typed, setTyped] = useState("");
  const revoked = revokedAt !== null;

  return (
    <div className="space-y-4">
      {revoked ? (
        <Alert variant="destructive">
          <ShieldAlertIcon className="size-4" aria-hidden="true" />
          <AlertTitle>The vendor&apos;s access to {tenantName}&apos;s data is revoked</AlertTitle>
          <AlertDescription>
            <p>
              Revoked <LocalTime value={revokedAt} withSeconds />
              {revokedBy ? ` by ${revokedBy}` : ""}. Every wrap and unwrap for this tenant is refused, on every instance.
            </p>
            <p className="mt-2">
              To make it final on your side as well, {makeFinal}; deleting the key destroys the data for good.
            </p>
          </AlertDescription>
        </Alert>
      ) : hasPrimary ? (
        <Alert variant="success">
          <ShieldCheckIcon className="size-4" aria-hidden="true" />
          <AlertTitle>Access active</AlertTitle>
          <AlertDescription>The vendor&apos;s application can wrap and unwrap data keys under your primary key.</AlertDescription>
        </Alert>
      ) : (
        <Alert>
          <AlertTitle>No access yet</AlertTitle>
          <AlertDescription>Register your KMS key and verify it; access is active only after a successful verification.</AlertDescription>
        </Alert>
      )}

      {revoked && revokeState?.ok && revokeState.data ? (
        <Alert variant="success" data-testid="revoke-result">
          <AlertDescription>
            <p>
              Revocation took effect at <LocalTime value={revokeState.data.revokedAt} withSeconds /> ({revokeState.data.tookMs} ms
              from your click reaching Custody); {revokeState.data.tenantKeys} tenant key
              {revokeState.data.tenantKeys === 1 ? "" : "s"} revoked.
            </p>
            {revokeState.data.kmsSide.map((done) => (
              <p key={`${done.kmsKeyId}/${done.item}`} data-testid="revoke-kms-side">
                {done.item} on {done.keyRef}: {done.message}
              </p>
            ))}
            {revokeState.data.kmsSide.some((done) => done.done) ? (
              <p>
                Custody refuses every use of your key at once. What was undone in your KMS can take a few minutes to apply
                everywhere on its side.
              </p>
            ) : null}
          </AlertDescription>
        </Alert>
      ) : null}
      {revokeState && !revokeState.ok ? (
        <Alert variant="destructive">
          <AlertDescription>{revokeState.message}</AlertDescription>
        </Alert>
      ) : null}
      {restoreState && (!revoked || !restoreState.ok || !restoreState.data?.restored) ? (
        <div className="space-y-2">
          <Alert variant={restoreState.ok && restoreState.data?.restored ? "success" : "destructive"}>
            <AlertDescription>{restoreState.message}</AlertDescription>
          </Alert>
          {restoreState.ok && restoreState.data ? <VerifySteps steps={restoreState.data.steps} /> : null}
        </div>
      ) : null}

      {canChange && !revoked && hasPrimary ? (
        <Dialog open={confirmOpen} onOpenChange={(open) => { setConfirmOpen(open); setTyped(""); }}>
          <DialogTrigger asChild>
            <Button variant="destructive">Revoke access</Button>
          </DialogTrigger>
          <DialogContent>
            <DialogHeader>
              <DialogTitle>Revoke the vendor&apos;s access to {tenantName}?</DialogTitle>
              <DialogDescription>
                At once, on every instance, the vendor&apos;s application can no longer wrap or unwrap any data key for {tenantName}:
                reading and writing {tenantName}&apos;s encrypted data stops working until you restore access. Nothing is deleted. To
                confirm, type {tenantName}&apos;s URL name, <code className="font-mono">{tenantSlug}</code>.
              </DialogDescription>
            </DialogHeader>
            <form action={(data) => { setConfirmOpen(false); revoke(data); }} className="space-y-4">
              <input type="hidden" name="tenantId" value={tenantId} />
              <FormField label={`Type ${tenantSlug} to confirm`} htmlFor="revoke-confirm">
                <Input id="revoke-confirm" name="confirm" autoComplete="off" value={typed} onChange={(e) => setTyped(e.target.value)} />
              </FormField>
              <DialogFooter>
                <DialogClose asChild>
                  <Button variant="outline" type="button">
                    Cancel
                  </Button>
                </DialogClose>
                <SubmitButton variant="destructive" pendingLabel="Revoking…" disabled={typed.trim() !== tenantSlug}>
                  Revoke access now
                </SubmitButton>
              </DialogFooter>
            </form>
          </DialogContent>
        </Dialog>
      ) : null}

      {canChange && revoked ? (
        <form action={restore} className="space-y-2">
          <input type="hidden" name="tenantId" value={tenantId} />
          <p className="text-sm text-muted-foreground">
            Restoring first verifies your primary key live with KMS; access returns only if that succeeds.
          </p>
          <SubmitButton variant="outline" pendingLabel="Verifying and restoring…">
            Verify and restore access
          </SubmitButton>
        </form>
      ) : null}
    </div>
  );
}
