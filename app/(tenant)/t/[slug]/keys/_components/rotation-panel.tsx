"use client";

import { RefreshCwIcon } from "lucide-react";
import { useRouter } from "next/navigation";
import { useActionState, useEffect, useState } from "react";
import { SubmitButton } from "@/components/submit-button";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog, DialogClose, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { resumeRotationAction, retireKeyAction, rollBackRotationAction, startRotationAction } from "../actions";

type Key = { id: string; keyRef: string; providerLabel: string };

export type RotationPanelProps = {
  tenantId: string;
  canChange: boolean;
  primary: Key | null;
  stillWrapping: Array<Key & { tenantKeys: number }>;
  rotation: {
    id: string;
    state: "running" | "failed" | "completed" | "rolled_back";
    from: Key;
    to: Key;
    total: number;
    rewrapped: number;
    lastError: string | null;
  } | null;
  retirable: Key[];
};

const POLL_MS = 1_500;

function KeyName({ k }: { k: Key }) {
  return (
    <span>
      <code className="font-mono text-xs break-all">{k.keyRef}</code> <span className="text-muted-foreground">({k.providerLabel})</span>
    </span>
  );
}

function ActionMessage({ state }: { state: { ok: boolean; message?: string } | null }) {
  if (!state?.message) return null;
  return (
    <Alert variant={state.ok ? "success" : "destructive"} data-testid="rotation-message">
      <AlertDescription>{state.message}</AlertDescription>
    </Alert>
  );
}

/** Rotating the tenant's KMS key: what still depends on older keys, the re-wrap's progress, and retiring keys nothing needs. */
export function RotationPanel({ tenantId, canChange, primary, stillWrapping, rotation, retirable }: RotationPanelProps) {
  const router = useRouter();
  const [startState, start] = useActionState(startRotationAction, null);
  const [resumeState, resume] = useActionState(resumeRotationAction, null);
  const [rollBackState, rollBack] = useActionState(rollBackRotationAction, null);
  const [retireState, retire] = useActionState(retireKeyAction, null);
  const [retiring, setRetiring] = useState<Key | null>(null);
  const running = rotation?.state === "running";

  // Progress: the server's view, re-read while the re-wrap runs.
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => router.refresh(), POLL_MS);
    return () => clearInterval(timer);
  }, [running, router]);

  const open = rotation && (rotation.state === "running" || rotation.state === "failed") ? rotation : null;
  const finished = rotation?.state === "completed" && !stillWrapping.some((k) => k.id === rotation.from.id) ? rotation : null;

  return (
    <div className="space-y-4" data-testid="rotation-panel">
      {open ? (
        <Alert variant={open.state === "failed" ? "destructive" : "default"} data-testid="rotation-progress" data-state={open.state}>
          {open.state === "running" ? <RefreshCwIcon className="size-4 animate-spin" aria-hidden="true" /> : null}
          <AlertTitle>
            {open.state === "running" ? "Re-wrapping tenant keys under the primary key" : "Re-wrapping stopped on an error"}
          </AlertTitle>
          <AlertDescription>
            <p>
              {Math.min(open.rewrapped, open.total)} of {open.total} tenant key{open.total === 1 ? "" : "s"} re-wrapped from <KeyName k={open.from} /> to{" "}
              <KeyName k={open.to} />. Every data key keeps working meanwhile.
            </p>
            <progress className="mt-2 w-full" max={Math.max(open.total, 1)} value={Math.min(open.rewrapped, open.total)} aria-label="Re-wrap progress" />
            {open.state === "failed" && open.lastError ? <p className="mt-2" data-testid="rotation-error">{open.lastError}</p> : null}
          </AlertDescription>
        </Alert>
      ) : null}

      {open?.state === "failed" && canChange ? (
        <div className="flex flex-wrap gap-2">
          <form action={resume}>
            <input type="hidden" name="tenantId" value={tenantId} />
            <input type="hidden" name="rotationId" value={open.id} />
            <SubmitButton pendingLabel="Resuming…">Resume re-wrapping</SubmitButton>
          </form>
          <form action={rollBack}>
            <input type="hidden" name="tenantId" value={tenantId} />
            <input type="hidden" name="rotationId" value={open.id} />
            <SubmitButton variant="outline" pendingLabel="Rolling back…">
              Roll back to the old key
            </SubmitButton>
          </form>
        </div>
      ) : null}

      {!open
        ? stillWrapping.map((k) => (
            <div key={k.id} className="space-y-2" data-testid="still-wrapping">
              <p className="text-sm">
                {k.tenantKeys} tenant key{k.tenantKeys === 1 ? " is" : "s are"} still wrapped by <KeyName k={k} />.
                {primary ? (
                  <>
                    {" "}
                    Re-wrapping puts {k.tenantKeys === 1 ? "it" : "them"} under your primary key, <KeyName k={primary} />: the
                    same tenant keys, so every data key the vendor stores keeps working, and the old key can then be retired.
                  </>
                ) : null}
              </p>
              {canChange && primary ? (
                <form action={start}>
                  <input type="hidden" name="tenantId" value={tenantId} />
                  <input type="hidden" name="kmsKeyId" value={k.id} />
                  <SubmitButton pendingLabel="Starting…">Re-wrap under the primary key</SubmitButton>
                </form>
              ) : null}
            </div>
          ))
        : null}

      {finished ? (
        <Alert variant="success" data-testid="rotation-done">
          <AlertTitle>Nothing depends on {finished.from.keyRef} any more</AlertTitle>
          <AlertDescription>
            All {finished.total} tenant key{finished.total === 1 ? " is" : "s are"} wrapped by <KeyName k={finished.to} />. You can retire the old
            key below.
          </AlertDescription>
        </Alert>
      ) : null}

      {retirable.length > 0 ? (
        <div className="space-y-2">
          {retirable.map((k) => (
            <div key={k.id} className="flex flex-wrap items-center justify-between gap-2" data-testid="retirable">
              <p className="text-sm">
                Nothing depends on <KeyName k={k} />.
              </p>
              {canChange ? (
                <Button variant="outline" onClick={() => setRetiring(k)}>
                  Retire this key
                </Button>
              ) : null}
            </div>
          ))}
        </div>
      ) : null}

      <Dialog open={retiring !== null} onOpenChange={(isOpen) => (isOpen ? null : setRetiring(null))}>
        {retiring ? (
          <DialogContent>
            <DialogHeader>
              <DialogTitle>Retire this key?</DialogTitle>
              <DialogDescription>
                Custody will never use <code className="font-mono break-all">{retiring.keyRef}</code> again, and removes what it can of
                its access to it in your KMS (AWS: the grants recorded for it). No tenant key depends on it. This cannot be undone:
                to use the key again, register it anew.
              </DialogDescription>
            </DialogHeader>
            <form action={(data) => { setRetiring(null); retire(data); }}>
              <input type="hidden" name="tenantId" value={tenantId} />
              <input type="hidden" name="kmsKeyId" value={retiring.id} />
              <input type="hidden" name="confirm" value="retire" />
              <DialogFooter>
                <DialogClose asChild>
                  <Button variant="outline" type="button">
                    Cancel
                  </Button>
                </DialogClose>
                <SubmitButton variant="destructive" pendingLabel="Retiring…">
                  Retire the key
                </SubmitButton>
              </DialogFooter>
            </form>
          </DialogContent>
        ) : null}
      </Dialog>

      <ActionMessage state={startState && !startState.ok ? startState : null} />
      <ActionMessage state={resumeState && !resumeState.ok ? resumeState : null} />
      <ActionMessage state={rollBackState} />
      <ActionMessage state={retireState} />
    </div>
  );
}
