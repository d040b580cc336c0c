"use client";

import { useRouter } from "next/navigation";
import { useActionState, useEffect, useState } from "react";
import { SubmitButton } from "@/components/submit-button";
import { Button } from "@/components/ui/button";
import { Dialog, DialogClose, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle, DialogTrigger } from "@/components/ui/dialog";
import { deleteSinkAction, retrySinkAction, setSinkEnabledAction, testSinkAction } from "../actions";

type Props = {
  tenantId: string;
  sinkId: string;
  name: string;
  enabled: boolean;
  failedEvents: number;
  queuedEvents: number;
  /** Where to go once the sink is deleted (its own page would 404). */
  afterDelete?: string;
};

/** A tenant admin's buttons for one sink; each result is shown beside them. Auditors never get this component. */
export function SinkActions({ tenantId, sinkId, name, enabled, failedEvents, queuedEvents, afterDelete }: Props) {
  const [testState, test] = useActionState(testSinkAction, null);
  const [retryState, retry] = useActionState(retrySinkAction, null);
  const [enableState, setEnabled] = useActionState(setSinkEnabledAction, null);
  const [deleteState, remove] = useActionState(deleteSinkAction, null);
  const [confirming, setConfirming] = useState(false);
  const router = useRouter();
  const deleted = deleteState?.ok === true;
  useEffect(() => {
    if (deleted && afterDelete) router.push(afterDelete);
  }, [deleted, afterDelete, router]);

  const ids = (
    <>
      <input type="hidden" name="tenantId" value={tenantId} />
      <input type="hidden" name="sinkId" value={sinkId} />
    </>
  );

  return (
    <div className="space-y-2">
      <div className="flex flex-wrap items-center gap-2">
        <form action={test}>
          {ids}
          <SubmitButton variant="outline" size="sm" pendingLabel="Sending…" aria-label={`Send test event to ${name}`}>
            Send test event
          </SubmitButton>
        </form>
        {failedEvents > 0 ? (
          <form action={retry}>
            {ids}
            <SubmitButton variant="outline" size="sm" pendingLabel="Queueing…" aria-label={`Retry failed deliveries of ${name}`}>
              Retry failed deliveries
            </SubmitButton>
          </form>
        ) : null}
        <form action={setEnabled}>
          {ids}
          <input type="hidden" name="enabled" value={enabled ? "false" : "true"} />
          <SubmitButton variant="outline" size="sm" pendingLabel="Saving…" aria-label={`${enabled ? "Disable" : "Enable"} ${name}`}>
            {enabled ? "Disable" : "Enable"}
          </SubmitButton>
        </form>
        <Dialog open={confirming} onOpenChange={setConfirming}>
          <DialogTrigger asChild>
            <Button variant="ghost" size="sm" className="text-destructive" aria-label={`Delete ${name}`}>
              Delete
            </Button>
          </DialogTrigger>
          <DialogContent>
            <DialogHeader>
              <DialogTitle>Delete &ldquo;{name}&rdquo;?</DialogTitle>
              <DialogDescription>
                Custody stops sending events to it at once.
                {queuedEvents + failedEvents > 0
                  ? ` ${queuedEvents + failedEvents} undelivered event${queuedEvents + failedEvents === 1 ? "" : "s"} will not be sent.`
                  : ""}{" "}
                The audit trail itself is unchanged, and the deletion is recorded in it. To pause instead, disable the sink.
              </DialogDescription>
            </DialogHeader>
            <form
              action={(data) => {
                setConfirming(false);
                remove(data);
              }}
            >
              {ids}
              <DialogFooter>
                <DialogClose asChild>
                  <Button variant="outline" type="button">
                    Cancel
                  </Button>
                </DialogClose>
                <SubmitButton variant="destructive" pendingLabel="Deleting…">
                  Delete log sink
                </SubmitButton>
              </DialogFooter>
            </form>
          </DialogContent>
        </Dialog>
      </div>
      {testState ? (
        <p
          role="status"
          data-testid="sink-test-result"
          data-ok={testState.ok && testState.data?.ok ? "true" : "false"}
          className={testState.ok && testState.data?.ok ? "text-sm text-success" : "text-sm text-destructive"}
        >
          {testState.ok && testState.data
            ? `${testState.data.ok ? "Test event delivered" : "Test event failed"} (${testState.data.ms} ms): ${testState.data.message}`
            : testState.message}
        </p>
      ) : null}
      {[retryState, enableState, deleteState].map((state, i) =>
        state?.message ? (
          <p key={i} role="status" className={state.ok ? "text-sm text-success" : "text-sm text-destructive"}>
            {state.message}
          </p>
        ) : null,
      )}
    </div>
  );
}
