import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { getConfig, installConfig } from "@/lib/config";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded";

// For command-line scripts (audit:verify, audit:prune): DATABASE_URL, or else the demo's
// embedded database (the running one under `npm start`, or started for the occasion). The
// script's configuration is installed with the database chosen, before any domain module loads.

export type ScriptDatabase = { url: string; onDemo: boolean; embedded?: EmbeddedPostgres };

export async function scriptDatabase(fail: (message: string) => never): Promise<ScriptDatabase> {
  const config = getConfig();
  const database = await chooseDatabase(fail);
  installConfig({ ...config, DATABASE_URL: database.url });
  return database;
}

async function chooseDatabase(fail: (message: string) => never): Promise<ScriptDatabase> {
  const config = getConfig();
  if (config.DATABASE_URL) return { url: config.DATABASE_URL, onDemo: false };
  const dataDir = path.join(config.CUSTODY_DATA_DIR, "pgdata");
  const port = config.EMBEDDED_PG_PORT;
  const passwordFile = `${dataDir}.password`;
  if (!fs.existsSync(passwordFile)) fail(`DATABASE_URL is not set and there is no demo database in ${dataDir}`);
  const password = fs.readFileSync(passwordFile, "utf8").trim();
  const url = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/custody`;
  const probe = new pg.Client({ connectionString: url });
  probe.on("error", () => {});
  try {
    await probe.connect();
    await probe.end();
    return { url, onDemo: true };
  } catch {
    const embedded = await startEmbeddedPostgres({ dataDir, port });
    return { url: embedded.databaseUrl, onDemo: true, embedded };
  }
}

/** The checkpoint key for a script: AUDIT_SIGNING_KEY(_FILE), or the demo's on the demo database. */
export async function scriptSigningKey(onDemo: boolean) {
  const { DEMO_SIGNING_KEY_FILE, readSigningKeyFile, signingKeyFromEnv } = await import("@/lib/audit/integrity/signing-key");
  const demoKeyFile = path.join(getConfig().CUSTODY_DATA_DIR, DEMO_SIGNING_KEY_FILE);
  return signingKeyFromEnv() ?? (onDemo && fs.existsSync(demoKeyFile) ? readSigningKeyFile(demoKeyFile) : null);
}

/** A tenant id, slug or "vendor" as a chain and a label for output; null if no tenant matches. */
export async function resolveChain(target: string): Promise<{ chain: string; label: string } | null> {
  const { VENDOR_CHAIN } = await import("@/lib/audit/actions");
  if (target === VENDOR_CHAIN) return { chain: VENDOR_CHAIN, label: "the vendor's trail" };
  const { getDb } = await import("@/lib/db");
  const isId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(target);
  const tenant = await getDb().tenant.findFirst({ where: isId ? { id: target.toLowerCase() } : { slug: target }, select: { id: true, slug: true } });
  return tenant ? { chain: tenant.id, label: `tenant ${tenant.slug} (${tenant.id})` } : null;
}
