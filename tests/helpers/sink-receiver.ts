import http from "node:http";
import type { AddressInfo } from "node:net";
import { SinkDeliveryError, type SinkEvent, type SinkTransport } from "@/lib/sinks/types";

// A real HTTP receiver for the outbox's tests, and a plain transport that POSTs a batch to it
// (the outbox is tested on its own; the real transports have their own tests). The receiver
// can be down (its port closed: connection refused), answer an error status, or hold requests
// until told to let them go.

export type ReceivedBatch = { path: string; events: SinkEvent[]; at: number };

/** POSTs the batch as JSON to the config's URL; 5xx and connection errors are retryable, 4xx not. */
export const postTransport: SinkTransport = async (config, events, options) => {
  if (config.kind === "syslog") throw new SinkDeliveryError("This test transport speaks HTTP only.", false);
  let response: Response;
  try {
    response = await fetch(String(config.url), {
      method: "POST",
      // The webhook's secret, a HEC token or a test kind's secret.
      headers: { "content-type": "application/json", "x-secret": String(config.secret ?? config.token ?? "") },
      body: JSON.stringify(events),
      signal: options.signal,
    });
  } catch {
    throw new SinkDeliveryError("Cannot connect to the receiver.", true);
  }
  await response.arrayBuffer();
  if (!response.ok) throw new SinkDeliveryError(`The receiver answered HTTP ${response.status}.`, response.status >= 500 || response.status === 429);
};

export class TestReceiver {
  batches: ReceivedBatch[] = [];
  secrets: string[] = [];
  status = 200;
  /** While set, requests wait (unanswered) until release() or drop(). */
  holding = false;
  /** Start holding once this many batches have been accepted. */
  holdAfterBatches: number | null = null;
  inFlight = 0;
  maxInFlight = 0;
  private held: Array<() => void> = [];
  private heldWaiters: Array<() => void> = [];
  private server: http.Server | null = null;
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/ingest`;
  }

  /** Every event received, in arrival order (duplicates included). */
  get events(): SinkEvent[] {
    return this.batches.flatMap((b) => b.events);
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        const answer = () => {
          this.inFlight--;
          if (res.destroyed) return;
          if (this.status < 300) {
            this.batches.push({ path: req.url ?? "", events: JSON.parse(Buffer.concat(chunks).toString("utf8")) as SinkEvent[], at: Date.now() });
            this.secrets.push(String(req.headers["x-secret"] ?? ""));
          }
          res.writeHead(this.status).end();
        };
        if (this.holdAfterBatches !== null && this.batches.length >= this.holdAfterBatches) this.holding = true;
        if (this.holding) {
          this.held.push(answer);
          for (const w of this.heldWaiters.splice(0)) w();
        } else {
          // A little latency, so concurrent senders overlap if they ever send at once.
          setTimeout(answer, 5);
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Closes the port: senders get connection refused. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Resolves once a request is being held. */
  async nextHeld(timeoutMs = 20_000): Promise<void> {
    if (this.held.length > 0) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no request arrived")), timeoutMs);
      this.heldWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  release(): void {
    this.holding = false;
    this.holdAfterBatches = null;
    for (const answer of this.held.splice(0)) answer();
  }

  /** Forgets the held requests unanswered and unrecorded, as if the receiver never finished them. */
  drop(): void {
    this.holding = false;
    this.holdAfterBatches = null;
    this.inFlight -= this.held.length;
    this.held.splice(0);
  }
}
