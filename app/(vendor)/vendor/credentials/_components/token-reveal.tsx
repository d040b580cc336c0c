"use client";

import { KeyRoundIcon } from "lucide-react";
import { CopyButton } from "@/components/copy-button";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";

/** A newly issued token, shown this once with a copy button and a plain warning. */
export function TokenReveal({ name, token }: { name: string; token: string }) {
  return (
    <Alert variant="success" data-testid="issued-token">
      <KeyRoundIcon aria-hidden="true" />
      <AlertTitle>Copy the token for &ldquo;{name}&rdquo; now</AlertTitle>
      <AlertDescription className="space-y-3">
        <p className="font-medium">
          It will not be shown again. Custody keeps only a hash of it; if it is lost, rotate the credential to get a new one.
        </p>
        <div className="flex flex-wrap items-center gap-2">
          <code data-testid="issued-token-value" className="min-w-0 flex-1 rounded-md border border-border bg-card px-2 py-1.5 font-mono text-xs break-all text-foreground">
            {token}
          </code>
          <CopyButton value={token} label="Copy token" />
        </div>
        <p>
          Store it in the vendor application&apos;s secret store; it sends it to the key service as{" "}
          <code className="font-mono text-xs">Authorization: Bearer csk_…</code>.
        </p>
      </AlertDescription>
    </Alert>
  );
}
