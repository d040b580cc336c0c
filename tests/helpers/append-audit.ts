// A separate process that appends audit events to one tenant's chain, the two ways Custody
// writes them: the console's appendAuditEvent (one transaction per event) and the key
// service's group commit (custody_append_audit_batch). The live-view tests run it to prove that
// events committed by another process reach a subscriber.
//
//   tsx --conditions=react-server tests/helpers/append-audit.ts <tenant id> <count> <delay ms>
//
// Prints `committed <via> <seq> <epoch ms>` after each commit, then `done`.
import pg from "pg";
import { recordAuditEvent } from "@/lib/audit";
import { AuditGroupCommitter } from "@/lib/audit/trail/group-commit";
import { disconnectDb } from "@/lib/db";

async function main() {
  const [tenantId, count, delay] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])];
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2, options: "-c standard_conforming_strings=on" });
  const committer = new AuditGroupCommitter(pool);
  const request = { sourceIp: "203.0.113.9", userAgent: "append-audit", requestId: null };
  for (let n = 0; n < count; n++) {
    if (n % 2 === 0) {
      const event = await recordAuditEvent({
        tenantId,
        actor: { type: "system", id: null, label: "other process" },
        action: "key.verified",
        outcome: "success",
        request,
        details: { n },
      });
      console.log(`committed console ${event.seq} ${Date.now()}`);
    } else {
      const result = await committer.append({
        tenantId,
        actor: { type: "service", id: "cred", label: "other process" },
        action: "key.unwrap",
        outcome: "success",
        request,
        details: { n },
        requiresAccess: false,
      });
      console.log(`committed group ${result.seq} ${Date.now()}`);
    }
    await new Promise((r) => setTimeout(r, delay));
  }
  await committer.close();
  await pool.end();
  await disconnectDb();
  console.log("done");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
