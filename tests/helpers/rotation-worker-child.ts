// A worker process for the KMS key rotation's kill -9 test: works one rotation as an app
// instance's background job would, printing its progress, until done or killed. Run by node with
// tsx's loader, DATABASE_URL and the KMS settings in its environment.
import { runRotation } from "@/lib/keys/rotation";

const rotationId = process.argv[2]!;
const leaseMs = Number(process.argv[3] ?? 2_000);

async function main() {
  process.stdout.write("ready\n");
  const outcome = await runRotation(rotationId, { leaseMs, onProgress: (n) => process.stdout.write(`rewrapped ${n}\n`) });
  process.stdout.write(`outcome ${outcome}\n`);
  process.exit(0);
}

void main();
