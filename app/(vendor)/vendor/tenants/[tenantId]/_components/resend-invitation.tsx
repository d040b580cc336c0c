"use client";

import { useActionState } from "react";
import { SubmitButton } from "@/components/submit-button";
import { resendInvitationAction } from "../../../actions";

/** "Re-send invitation" for a tenant admin who has not signed in; the answer shows beside it. */
export function ResendInvitation({ tenantId, membershipId, email }: { tenantId: string; membershipId: string; email: string }) {
  const [state, resend] = useActionState(resendInvitationAction, null);
  return (
    <form action={resend} className="flex flex-col items-start gap-1">
      <input type="hidden" name="tenantId" value={tenantId} />
      <input type="hidden" name="membershipId" value={membershipId} />
      <SubmitButton variant="outline" size="sm" pendingLabel="Re-sending…" aria-label={`Re-send the invitation to ${email}`}>
        Re-send invitation
      </SubmitButton>
      {state ? (
        <p role={state.ok ? "status" : "alert"} className={state.ok ? "text-xs text-success" : "text-xs text-destructive"}>
          {state.message}
        </p>
      ) : null}
    </form>
  );
}
