// `npm run bench:append`: the audit trail's append path alone, as the key service drives it
// (lib/audit/trail/group-commit.ts: batches through custody_append_audit_batch), without HTTP
// or KMS around it. Prints events/s and the CPU PostgreSQL's backends and this process spent
// per event (tests/helpers/cpu.ts), so a change to audit_events (its indexes, its partitioning)
// is measured where it costs. `-- --smoke` is a short run; `--events-before <n>` first fills the
// trail with n events so the indexes are not empty; `--tenants <n>` spreads appends over n chains.
// `--without <migration>` measures a second database built without that migration and the ones
// after it, in alternating rounds (`--rounds`), so a before/after comparison shares the
// machine's load instead of being taken minutes apart.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { applyMigrations } from "@/lib/db/migrate";
import { AuditGroupCommitter, type HotAuditEvent } from "@/lib/audit/trail/group-commit";
import { CpuMeter } from "../tests/helpers/cpu";
import { createEmptyDatabase, createTestDatabase, type TestDatabase } from "../tests/helpers/db";

type Args = { duration: number; concurrency: number; tenants: number; eventsBefore: number; rounds: number; without: string | null; smoke: boolean };

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
    eventsBefore: value("events-before", smoke ? 1_000 : 50_000),
    rounds: value("rounds", smoke ? 1 : 3),
    without: argv.includes("--without") ? (argv[argv.indexOf("--without") + 1] ?? null) : null,
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

type Variant = {
  label: string;
  database: TestDatabase;
  pool: pg.Pool;
  committer: AuditGroupCommitter;
  tenants: string[];
  samples: Array<{ eventsPerSecond: number; databaseMicros: number; appenderMicros: number }>;
};

/** A database with every migration before `name` (and not it, nor any after it). */
async function databaseWithout(name: string): Promise<TestDatabase> {
  const all = path.join(process.cwd(), "prisma", "migrations");
  if (!fs.existsSync(path.join(all, name))) throw new Error(`no migration ${name}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "custody-bench-migrations-"));
  for (const entry of fs.readdirSync(all)) if (entry < name) fs.cpSync(path.join(all, entry), path.join(dir, entry), { recursive: true });
  const database = await createEmptyDatabase();
  try {
    await applyMigrations(database.url, { migrationsDir: dir });
  } catch (error) {
    await database.drop();
    throw error;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return database;
}

async function prepare(label: string, database: TestDatabase, args: Args): Promise<Variant> {
  const pool = new pg.Pool({ connectionString: database.url, max: 4, application_name: APP });
  const { rows } = await pool.query<{ id: string }>(
    "INSERT INTO tenants (id, slug, name) SELECT gen_random_uuid(), 'bench-' || g, 'bench ' || g FROM generate_series(1, $1) g RETURNING id::text AS id",
    [args.tenants],
  );
  const variant: Variant = { label, database, pool, committer: new AuditGroupCommitter(pool), tenants: rows.map((r) => r.id), samples: [] };
  // Fill (unmeasured), so the indexes have depth.
  for (let done = 0; done < args.eventsBefore; ) {
    const n = Math.min(2_000, args.eventsBefore - done);
    await Promise.all(Array.from({ length: n }, (_, k) => variant.committer.append(event(tenantOf(variant, done + k), done + k))));
    done += n;
  }
  await pool.query("VACUUM ANALYZE audit_events");
  return variant;
}

const tenantOf = (variant: Variant, i: number) => variant.tenants[i % variant.tenants.length]!;

async function run(variant: Variant, seconds: number, concurrency: number): Promise<number> {
  let events = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, lane) => {
      for (let i = lane; Date.now() < until; i += concurrency) {
        await variant.committer.append(event(tenantOf(variant, i), i));
        events++;
      }
    }),
  );
  return events;
}

async function measure(variant: Variant, args: Args): Promise<void> {
  const meter = new CpuMeter(variant.database.url, () => [], [APP]);
  const before = await meter.sample();
  const ownBefore = process.cpuUsage();
  const started = performance.now();
  const events = Math.max(1, await run(variant, args.duration, args.concurrency));
  const seconds = (performance.now() - started) / 1000;
  const own = process.cpuUsage(ownBefore);
  const spent = CpuMeter.spent(before, await meter.sample());
  variant.samples.push({ eventsPerSecond: events / seconds, databaseMicros: spent.databaseMicros / events, appenderMicros: (own.user + own.system) / events });
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? 0;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const say = (line: string) => console.log(`[bench:append] ${line}`);
  say(
    `${os.cpus().length} CPUs, node ${process.version}, load ${os.loadavg()[0]!.toFixed(1)}; ${args.rounds} × ${args.duration}s, ${args.concurrency} appenders, ` +
      `${args.tenants} tenants, ${args.eventsBefore} events before`,
  );
  const variants: Variant[] = [];
  try {
    variants.push(await prepare("every migration", await createTestDatabase(), args));
    if (args.without) variants.push(await prepare(`without ${args.without} and later`, await databaseWithout(args.without), args));
    for (const v of variants) await run(v, 1, args.concurrency); // warm-up
    for (let round = 0; round < args.rounds; round++) {
      // Alternate which goes first, so neither always follows the other.
      for (const v of round % 2 === 0 ? variants : [...variants].reverse()) await measure(v, args);
    }
    for (const v of variants) {
      const { rows: size } = await v.pool.query<{ bytes: string }>(
        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::text AS bytes FROM pg_class c WHERE c.relname = 'audit_events' OR c.oid IN (SELECT inhrelid FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'audit_events')",
      );
      const each = (pick: (s: Variant["samples"][number]) => number, digits = 0) => v.samples.map((s) => pick(s).toFixed(digits)).join(" / ");
      say(
        `${v.label}: ${Math.round(median(v.samples.map((s) => s.eventsPerSecond)))} events/s (${each((s) => s.eventsPerSecond)}); ` +
          `CPU per event: PostgreSQL ${median(v.samples.map((s) => s.databaseMicros)).toFixed(1)} µs (${each((s) => s.databaseMicros, 1)}), ` +
          `appender ${median(v.samples.map((s) => s.appenderMicros)).toFixed(1)} µs; commits ${v.committer.stats.commits}; audit_events ${(Number(size[0]?.bytes ?? 0) / 2 ** 20).toFixed(0)} MiB`,
      );
    }
  } finally {
    for (const v of variants) {
      await v.committer.close().catch(() => {});
      await v.pool.end().catch(() => {});
      await v.database.drop().catch(() => {});
    }
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench:append: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
