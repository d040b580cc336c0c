// A worker process for the outbox's kill -9 test: delivers due batches in a loop with the test
// transport, as an app instance's job would, until killed. Run by tsx with DATABASE_URL set.
import { deliverDue } from "@/lib/sinks/worker";
import { postTransport } from "./sink-receiver";

const leaseMs = Number(process.env.SINK_TEST_LEASE_MS ?? 1_500);

async function main() {
  process.stdout.write("ready\n");
  for (;;) {
    await deliverDue({ transport: postTransport, allowPrivateTargets: true, maxAgeMs: 3_600_000, budgetMs: 1_000, leaseMs, timeoutMs: 10_000, concurrency: 1 });
    await new Promise((r) => setTimeout(r, 50));
  }
}

void main();
