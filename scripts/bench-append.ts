// `npm run bench:append`: the audit trail's append path alone, as the key service drives it
// (lib/audit/trail/group-commit.ts: batches through custody_append_audit_batch), without HTTP
// or KMS around it. Prints events/s and the CPU PostgreSQL's backends and this process spent
// per event (tests/helpers/cpu.ts), so a change to audit_events (its indexes, its partitioning)
// is measured where it costs. `-- --smoke` is a short run; `--events-before <n>` first fills the
// trail with n events so the indexes are not empty; `--tenants <n>` spreads appends over n chains.
import os from "node:os";
import pg from "pg";
import { AuditGroupCommitter, type HotAuditEvent } from "@/lib/audit/trail/group-commit";
import { CpuMeter } from "../tests/helpers/cpu";
import { createTestDatabase } from "../tests/helpers/db";

type Args = { duration: number; concurrency: number; tenants: number; eventsBefore: number; smoke: boolean };

function parseArgs(argv: string[]): Args {
  const smoke = argv.includes("--smoke");
  const value = (name: string, fallback: number) => {
    const at = argv.indexOf(`--${name}`);
    if (at < 0) return fallback;
    const n = Number(argv[at + 1]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} needs a whole number`);
    return n;
  };
  return {
    smoke,
    duration: value("duration", smoke ? 2 : 10),
    concurrency: value("concurrency", 64),
    tenants: value("tenants", smoke ? 10 : 100),
    eventsBefore: value("events-before", smoke ? 1_000 : 200_000),
  };
}

const APP = "custody-bench-append";

function event(tenantId: string, i: number): HotAuditEvent {
  return {
    tenantId,
    actor: { type: "service", id: "cred-bench", label: "bench-app" },
    action: "key.unwrap",
    outcome: "success",
    request: { sourceIp: "10.0.0.1", userAgent: "bench", requestId: `req-${i}` },
    details: { dataLabel: "bench", objectId: `obj-${i % 1000}`, actor: "user:bench", reason: "benchmark" },
    requiresAccess: true,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const say = (line: string) => console.log(`[bench:append] ${line}`);
  say(`${os.cpus().length} CPUs, node ${process.version}; ${args.duration}s, ${args.concurrency} appenders, ${args.tenants} tenants, ${args.eventsBefore} events before`);
  const database = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: database.url, max: 4, application_name: APP });
  try {
    const { rows: tenants } = await pool.query<{ id: string }>(
      "INSERT INTO tenants (id, slug, name) SELECT gen_random_uuid(), 'bench-' || g, 'bench ' || g FROM generate_series(1, $1) g RETURNING id::text AS id",
      [args.tenants],
    );
    const committer = new AuditGroupCommitter(pool);
    const tenantOf = (i: number) => tenants[i % tenants.length]!.id;

    // Fill (unmeasured), so the indexes have depth.
    for (let done = 0; done < args.eventsBefore; ) {
      const n = Math.min(2_000, args.eventsBefore - done);
      await Promise.all(Array.from({ length: n }, (_, k) => committer.append(event(tenantOf(done + k), done + k))));
      done += n;
    }
    await pool.query("VACUUM ANALYZE audit_events");

    const run = async (seconds: number) => {
      let events = 0;
      const until = Date.now() + seconds * 1000;
      await Promise.all(
        Array.from({ length: args.concurrency }, async (_, lane) => {
          for (let i = lane; Date.now() < until; i += args.concurrency) {
            await committer.append(event(tenantOf(i), i));
            events++;
          }
        }),
      );
      return events;
    };
    await run(1); // warm-up

    const meter = new CpuMeter(database.url, () => [], [APP]);
    const before = await meter.sample();
    const ownBefore = process.cpuUsage();
    const started = performance.now();
    const events = await run(args.duration);
    const seconds = (performance.now() - started) / 1000;
    const own = process.cpuUsage(ownBefore);
    const spent = CpuMeter.spent(before, await meter.sample());
    await committer.close();
    const perEvent = (micros: number) => (micros / Math.max(1, events)).toFixed(1);
    const { rows: size } = await pool.query<{ bytes: string }>(
      "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::text AS bytes FROM pg_class c WHERE c.relname = 'audit_events' OR c.oid IN (SELECT inhrelid FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'audit_events')",
    );
    say(
      `${events} events in ${seconds.toFixed(1)} s: ${Math.round(events / seconds)} events/s; ` +
        `CPU per event: PostgreSQL ${perEvent(spent.databaseMicros)} µs, this process ${perEvent(own.user + own.system)} µs; ` +
        `commits ${committer.stats.commits}, largest batch ${committer.stats.largestBatch}; audit_events ${(Number(size[0]?.bytes ?? 0) / 2 ** 20).toFixed(0)} MiB`,
    );
  } finally {
    await pool.end();
    await database.drop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench:append: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
