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
import { changeMemberRoleAction, removeMemberAction } from "../actions";

type Props = { tenantId: string; tenantName: string; membershipId: string; email: string; role: "admin" | "auditor" };

export function MemberActions({ tenantId, tenantName, membershipId, email, role }: Props) {
  const [roleState, changeRole] = useActionState(changeMemberRoleAction, null);
  const [removeState, remove] = useActionState(removeMemberAction, null);
  const [confirming, setConfirming] = useState(false);
  const other = role === "admin" ? "auditor" : "admin";
  const error = (roleState && !roleState.ok ? roleState.message : null) ?? (removeState && !removeState.ok ? removeState.message : null);

  return (
    <div className="flex flex-col items-end gap-2">
      <div className="flex items-center justify-end gap-2">
        <form action={changeRole} className="flex items-center gap-2">
          <input type="hidden" name="tenantId" value={tenantId} />
          <input type="hidden" name="membershipId" value={membershipId} />
          <input type="hidden" name="role" value={other} />
          <SubmitButton variant="outline" size="sm" pendingLabel="Saving…" aria-label={`Make ${email} ${other}`}>
            Make {other}
          </SubmitButton>
        </form>
        <Dialog open={confirming} onOpenChange={setConfirming}>
          <DialogTrigger asChild>
            <Button variant="ghost" size="sm" className="text-destructive" aria-label={`Remove ${email}`}>
              Remove
            </Button>
          </DialogTrigger>
          <DialogContent>
            <DialogHeader>
              <DialogTitle>Remove {email}?</DialogTitle>
              <DialogDescription>
                They lose access to {tenantName} at once, including any page they have open. You can add them again later.
              </DialogDescription>
            </DialogHeader>
            <form action={(data) => { setConfirming(false); remove(data); }}>
              <input type="hidden" name="tenantId" value={tenantId} />
              <input type="hidden" name="membershipId" value={membershipId} />
              <DialogFooter>
                <DialogClose asChild>
                  <Button variant="outline" type="button">
                    Cancel
                  </Button>
                </DialogClose>
                <SubmitButton variant="destructive" pendingLabel="Removing…">
                  Remove member
                </SubmitButton>
              </DialogFooter>
            </form>
          </DialogContent>
        </Dialog>
      </div>
      {roleState?.ok ? (
        <p role="status" className="text-xs text-success">
          {roleState.message}
        </p>
      ) : null}
      {error ? (
        <Alert variant="destructive" className="max-w-sm text-left">
          <AlertDescription>{error}</AlertDescription>
        </Alert>
      ) : null}
    </div>
  );
}
