// How a receiver checks a webhook delivery (lib/sinks/transports/webhook-signature.ts), in short.

const SNIPPET = `import { createHmac, timingSafeEqual } from "node:crypto";

// rawBody: the request body exactly as received (bytes), before JSON parsing.
function isFromCustody(secret, header, rawBody) {
  const parts = String(header ?? "").split(",").map((p) => p.trim().split("="));
  const t = Number(parts.find(([k]) => k === "t")?.[1]);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > 300) return false;
  const expected = createHmac("sha256", secret).update(\`\${t}.\`).update(rawBody).digest();
  return parts.some(([k, v]) => k === "v1" && /^[0-9a-f]{64}$/.test(v) &&
    timingSafeEqual(Buffer.from(v, "hex"), expected));
}`;

export function WebhookVerification() {
  return (
    <details className="rounded-md border border-border p-3 text-sm" id="verifying-webhooks">
      <summary className="cursor-pointer font-medium">Verifying webhook deliveries</summary>
      <div className="mt-3 space-y-2">
        <p>
          Each delivery is a <code className="font-mono text-xs">POST</code> of <code className="font-mono text-xs">{`{"events":[…]}`}</code> in trail
          order, with the header <code className="font-mono text-xs">Custody-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex&gt;</code>.
        </p>
        <ol className="list-decimal space-y-1 pl-5">
          <li>
            Compute HMAC-SHA256 with the sink&apos;s secret over <code className="font-mono text-xs">&lt;t&gt;.&lt;raw body&gt;</code>.
          </li>
          <li>
            Compare it with each <code className="font-mono text-xs">v1</code> value in constant time; one match is enough.
          </li>
          <li>Reject a timestamp more than 5 minutes from your clock (a replayed delivery).</li>
          <li>
            Deliveries are at least once: deduplicate by each event&apos;s <code className="font-mono text-xs">id</code> (
            <code className="font-mono text-xs">&lt;tenant&gt;:&lt;seq&gt;</code>). A test event has an id starting{" "}
            <code className="font-mono text-xs">test:</code> and is not part of the trail.
          </li>
          <li>Answer 2xx to accept. 5xx, 408, 429 or no answer: Custody retries with backoff. A redirect or another 4xx marks the batch failed.</li>
        </ol>
        <pre className="overflow-x-auto rounded-md bg-muted p-3 font-mono text-xs">{SNIPPET}</pre>
      </div>
    </details>
  );
}
