"use client";

import { type ReactNode, useActionState, useState } from "react";
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
import { changeMemberRoleAction, removeMemberAction, resendInvitationAction } from "../actions";

type Props = {
  tenantId: string;
  tenantName: string;
  membershipId: string;
  email: string;
  role: "admin" | "auditor";
  /** The row is the signed-in person's own: the words address them ("Leave Acme"). */
  isSelf?: boolean;
  /** The person has not signed in yet: the row is an invitation (re-send it, or revoke it). */
  invited?: boolean;
};

const ROLE_EFFECT = {
  admin: "be able to manage keys, members and log sinks, and to revoke the vendor's access",
  auditor: "be able to read the trail and the settings, but not to change anything",
} as const;

/** A change asked for with a button and applied only once confirmed in a dialog. */
function ConfirmedAction({
  trigger,
  title,
  description,
  confirm,
  pendingLabel,
  destructive = false,
  action,
  fields,
}: {
  trigger: ReactNode;
  title: string;
  description: string;
  confirm: string;
  pendingLabel: string;
  destructive?: boolean;
  action: (data: FormData) => void;
  fields: Record<string, string>;
}) {
  const [open, setOpen] = useState(false);
  return (
    <Dialog open={open} onOpenChange={setOpen}>
      <DialogTrigger asChild>{trigger}</DialogTrigger>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>{title}</DialogTitle>
          <DialogDescription>{description}</DialogDescription>
        </DialogHeader>
        <form
          action={(data) => {
            setOpen(false);
            action(data);
          }}
        >
          {Object.entries(fields).map(([name, value]) => (
            <input key={name} type="hidden" name={name} value={value} />
          ))}
          <DialogFooter>
            <DialogClose asChild>
              <Button variant="outline" type="button">
                Cancel
              </Button>
            </DialogClose>
            <SubmitButton variant={destructive ? "destructive" : "default"} pendingLabel={pendingLabel}>
              {confirm}
            </SubmitButton>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}

export function MemberActions({ tenantId, tenantName, membershipId, email, role, isSelf = false, invited = false }: Props) {
  const [roleState, changeRole] = useActionState(changeMemberRoleAction, null);
  const [removeState, remove] = useActionState(removeMemberAction, null);
  const [resendState, resend] = useActionState(resendInvitationAction, null);
  const other = role === "admin" ? "auditor" : "admin";
  const done = [roleState, resendState].find((state) => state?.ok) ?? null;
  const error = [roleState, removeState, resendState].find((state) => state && !state.ok)?.message ?? null;
  const fields = { tenantId, membershipId };

  return (
    <div className="flex flex-col items-end gap-2">
      <div className="flex items-center justify-end gap-2">
        {invited ? (
          <form action={resend}>
            <input type="hidden" name="tenantId" value={tenantId} />
            <input type="hidden" name="membershipId" value={membershipId} />
            <SubmitButton variant="outline" size="sm" pendingLabel="Re-sending…" aria-label={`Re-send the invitation to ${email}`}>
              Re-send invitation
            </SubmitButton>
          </form>
        ) : null}
        <ConfirmedAction
          trigger={
            <Button variant="outline" size="sm" aria-label={`Make ${email} ${other}`}>
              Make {other}
            </Button>
          }
          title={isSelf ? `Make yourself an ${other}?` : `Make ${email} an ${other}?`}
          description={
            isSelf
              ? `You will then ${ROLE_EFFECT[other]} in ${tenantName}.`
              : `They will then ${ROLE_EFFECT[other]} in ${tenantName}, from their next click.`
          }
          confirm={`Make ${other}`}
          pendingLabel="Saving…"
          action={changeRole}
          fields={{ ...fields, role: other }}
        />
        <ConfirmedAction
          trigger={
            <Button
              variant="ghost"
              size="sm"
              className="text-destructive"
              aria-label={isSelf ? `Leave ${tenantName}` : invited ? `Revoke the invitation to ${email}` : `Remove ${email}`}
            >
              {isSelf ? "Leave" : invited ? "Revoke invitation" : "Remove"}
            </Button>
          }
          title={isSelf ? `Leave ${tenantName}?` : invited ? `Revoke the invitation to ${email}?` : `Remove ${email}?`}
          description={
            isSelf
              ? `You will lose access to ${tenantName} at once, including any page you have open. Another admin can add you again.`
              : invited
                ? `They will not be able to sign in to ${tenantName} with it. You can invite them again later.`
                : `They lose access to ${tenantName} at once, including any page they have open. You can add them again later.`
          }
          confirm={isSelf ? `Leave ${tenantName}` : invited ? "Revoke invitation" : "Remove member"}
          pendingLabel={isSelf ? "Leaving…" : invited ? "Revoking…" : "Removing…"}
          destructive
          action={remove}
          fields={fields}
        />
      </div>
      {done ? (
        <p role="status" className="text-xs text-success">
          {done.message}
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
