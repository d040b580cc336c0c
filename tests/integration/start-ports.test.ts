import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { freePort } from "../helpers/net";
import { afterEach, describe, expect, it } from "vitest";

// `npm start` with a port already taken: it must refuse before the embedded database, the build
// or any server starts, and name the variable that moves the port.
const root = path.resolve(__dirname, "../..");
const held: net.Server[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(held.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function hold(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  held.push(server);
  return (server.address() as net.AddressInfo).port;
}

async function npmStart(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const base: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const name of ["DATABASE_URL", "OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "NEXTAUTH_URL", "NEXTAUTH_SECRET", "KMS_ENDPOINT", "KMS_VENDOR_PRINCIPAL_ARN", "HOST"]) {
    if (!(name in env)) delete base[name];
  }
  // What `npm start` runs (package.json), without npm's own output around it.
  const child = spawn(path.join(root, "node_modules/.bin/tsx"), ["--conditions=react-server", "scripts/start.ts"], { cwd: root, env: base, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { code, out };
}

describe("npm start with a port already in use", () => {
  it("refuses at once, naming each taken port and the variable that moves it, and starts nothing", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "custody-ports-"));
    dirs.push(dataDir);
    const [kmsPort, idpPort] = [await hold(), await hold()];
    const { code, out } = await npmStart({
      CUSTODY_DATA_DIR: dataDir,
      PORT: String(await freePort()),
      EMBEDDED_PG_PORT: String(await freePort()),
      DEV_IDP_PORT: String(idpPort),
      DEV_KMS_PORT: String(kmsPort),
    });
    expect(code).toBe(1);
    expect(out).toContain(`port ${kmsPort} (the development KMS) is already in use: set DEV_KMS_PORT to another port`);
    expect(out).toContain(`port ${idpPort} (the development identity provider) is already in use: set DEV_IDP_PORT to another port`);
    // Nothing slow ran first: no database was initialised, no build started.
    expect(fs.existsSync(path.join(dataDir, "pgdata"))).toBe(false);
    expect(out).not.toMatch(/Embedded PostgreSQL|Building|rebuilding|migrations|schema/i);
    expect(out).not.toMatch(/\n\s+at /);
  });

  it("names PORT and EMBEDDED_PG_PORT the same way", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "custody-ports-"));
    dirs.push(dataDir);
    const [webPort, pgPort] = [await hold(), await hold()];
    const { code, out } = await npmStart({
      CUSTODY_DATA_DIR: dataDir,
      PORT: String(webPort),
      EMBEDDED_PG_PORT: String(pgPort),
      DEV_IDP_PORT: String(await freePort()),
      DEV_KMS_PORT: String(await freePort()),
    });
    expect(code).toBe(1);
    expect(out).toContain(`port ${webPort} (Custody) is already in use: set PORT to another port`);
    expect(out).toContain(`port ${pgPort} (the embedded PostgreSQL) is already in use: set EMBEDDED_PG_PORT to another port`);
    expect(fs.existsSync(path.join(dataDir, "pgdata"))).toBe(false);
  });
});
