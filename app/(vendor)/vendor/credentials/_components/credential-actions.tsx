"use client";

import { useActionState, useState } from "react";
import { SubmitButton } from "@/components/submit-button";
import { Alert, AlertDescription } from "@/components/ui/alert";
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
import { revokeCredentialAction, rotateCredentialAction } from "../actions";
import { TokenReveal } from "./token-reveal";

type Props = {
  credentialId: string;
  name: string;
  tokenPrefix: string;
  tenantName: string | null;
  /** Whether another credential of this name is active (rotating again would make a third). */
  hasActiveTwin: boolean;
};

export function CredentialActions({ credentialId, name, tokenPrefix, tenantName, hasActiveTwin }: Props) {
  const [rotateState, rotate] = useActionState(rotateCredentialAction, null);
  const [revokeState, revoke] = useActionState(revokeCredentialAction, null);
  const [confirming, setConfirming] = useState(false);
  // The issued token's dialog stays open until dismissed; dismissing forgets nothing else.
  const [dismissed, setDismissed] = useState<string | null>(null);
  const issued = rotateState?.ok && rotateState.data && rotateState.id !== dismissed ? rotateState.data : null;
  const error = (rotateState && !rotateState.ok ? rotateState.message : null) ?? (revokeState && !revokeState.ok ? revokeState.message : null);

  return (
    <div className="flex flex-col items-end gap-2">
      <div className="flex items-center justify-end gap-2">
        <form action={rotate}>
          <input type="hidden" name="credentialId" value={credentialId} />
          <SubmitButton
            variant="outline"
            size="sm"
            pendingLabel="Rotating…"
            aria-label={`Rotate ${name}`}
            title={hasActiveTwin ? "Two credentials of this name are active; revoke one first." : undefined}
          >
            Rotate
          </SubmitButton>
        </form>
        <Dialog open={confirming} onOpenChange={setConfirming}>
          <DialogTrigger asChild>
            <Button variant="ghost" size="sm" className="text-destructive" aria-label={`Revoke ${name}`}>
              Revoke
            </Button>
          </DialogTrigger>
          <DialogContent>
            <DialogHeader>
              <DialogTitle>Revoke &ldquo;{name}&rdquo;?</DialogTitle>
              <DialogDescription>
                At once, on every instance, the key service refuses every call made with this credential ({tokenPrefix}
                {tenantName ? `, restricted to ${tenantName}` : ", for every tenant"}). An application still using it stops
                being able to wrap or unwrap data keys. This cannot be undone.
                {hasActiveTwin ? " The other active credential of this name keeps working." : ""}
              </DialogDescription>
            </DialogHeader>
            <form
              action={(data) => {
                setConfirming(false);
                revoke(data);
              }}
            >
              <input type="hidden" name="credentialId" value={credentialId} />
              <DialogFooter>
                <DialogClose asChild>
                  <Button variant="outline" type="button">
                    Cancel
                  </Button>
                </DialogClose>
                <SubmitButton variant="destructive" pendingLabel="Revoking…">
                  Revoke credential
                </SubmitButton>
              </DialogFooter>
            </form>
          </DialogContent>
        </Dialog>
      </div>
      {error ? (
        <Alert variant="destructive" className="max-w-sm text-left">
          <AlertDescription>{error}</AlertDescription>
        </Alert>
      ) : null}

      <Dialog open={issued !== null} onOpenChange={(open) => (open ? null : setDismissed(rotateState?.id ?? null))}>
        <DialogContent className="max-w-2xl" onInteractOutside={(e) => e.preventDefault()}>
          <DialogHeader>
            <DialogTitle>&ldquo;{name}&rdquo; rotated</DialogTitle>
            <DialogDescription>
              A new credential with the same name, scopes and tenant now exists beside the old one. Both work: switch the
              application to the new token, then revoke the old credential.
            </DialogDescription>
          </DialogHeader>
          {issued ? <TokenReveal name={issued.name} token={issued.token} /> : null}
          <DialogFooter>
            <DialogClose asChild>
              <Button type="button">I have stored the token</Button>
            </DialogClose>
          </DialogFooter>
        </DialogContent>
      </Dialog>
    </div>
  );
}
