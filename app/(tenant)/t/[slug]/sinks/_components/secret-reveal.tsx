"use client";

import { KeyRoundIcon } from "lucide-react";
import { CopyButton } from "@/components/copy-button";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";

/** A webhook's newly generated signing secret, shown this once with a copy button and how to use it. */
export function SecretReveal({ name, secret }: { name: string; secret: string }) {
  return (
    <Alert variant="success" data-testid="sink-secret">
      <KeyRoundIcon aria-hidden="true" />
      <AlertTitle>Copy the signing secret for &ldquo;{name}&rdquo; now</AlertTitle>
      <AlertDescription className="space-y-3">
        <p className="font-medium">It will not be shown again. Custody stores it encrypted; if it is lost, rotate it from the sink&apos;s page.</p>
        <div className="flex flex-wrap items-center gap-2">
          <code
            data-testid="sink-secret-value"
            className="min-w-0 flex-1 rounded-md border border-border bg-card px-2 py-1.5 font-mono text-xs break-all text-foreground"
          >
            {secret}
          </code>
          <CopyButton value={secret} label="Copy secret" />
        </div>
        <p>
          Each delivery carries <code className="font-mono text-xs">Custody-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex&gt;</code>: your receiver
          computes HMAC-SHA256 with this secret over <code className="font-mono text-xs">&lt;t&gt;.&lt;raw body&gt;</code>, compares it with{" "}
          <code className="font-mono text-xs">v1</code> in constant time and rejects a <code className="font-mono text-xs">t</code> more than five
          minutes off. See &ldquo;Verifying webhook deliveries&rdquo; below.
        </p>
      </AlertDescription>
    </Alert>
  );
}
