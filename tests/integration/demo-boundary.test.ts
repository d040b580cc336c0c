import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";

// A production start (`npm start` with an identity provider, `npm run keyservice`) that names a
// demo part refuses before it starts anything, with a message saying what to change.
const root = path.resolve(__dirname, "../..");
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function run(script: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ["--conditions=react-server", "--import", "tsx", script], {
    cwd: root,
    env: { NODE_ENV: "production", PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? os.tmpdir(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { code, out };
}

describe("demo parts in a production start", () => {
  it("npm start refuses the development IdP and KMS and the demo seed, and starts nothing", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "custody-demo-boundary-"));
    dirs.push(dataDir);
    const { code, out } = await run("scripts/start.ts", {
      CUSTODY_DATA_DIR: dataDir,
      DATABASE_URL: "postgresql://custody@127.0.0.1:1/custody",
      OIDC_ISSUER: "http://localhost:3001",
      OIDC_CLIENT_ID: "custody",
      OIDC_CLIENT_SECRET: "custody-dev-secret",
      NEXTAUTH_SECRET: "a".repeat(32),
      NEXTAUTH_URL: "https://custody.example.com",
      KMS_ENDPOINT: "http://127.0.0.1:4566",
      KMS_VENDOR_PRINCIPAL_ARN: "arn:aws:iam::999988887777:role/custody",
      AUDIT_SIGNING_KEY: generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      SINK_SECRET_KEY: Buffer.alloc(32, 9).toString("base64"),
      CUSTODY_SEED_DEMO: "true",
    });
    expect(code).toBe(1);
    expect(out).toContain("[custody] Invalid configuration:");
    expect(out).toContain("OIDC_ISSUER points at the development identity provider's port on this machine (DEV_IDP_PORT 3001)");
    expect(out).toContain("KMS_ENDPOINT points at the development KMS's port on this machine (DEV_KMS_PORT 4566)");
    expect(out).toContain("CUSTODY_SEED_DEMO would add the demo's people");
    expect(out).not.toMatch(/migrations|Building|listening|\n\s+at /);
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });

  it("the key service alone refuses the development KMS", async () => {
    const { code, out } = await run("scripts/keyservice.ts", {
      DATABASE_URL: "postgresql://custody@127.0.0.1:1/custody",
      KMS_ENDPOINT: "http://localhost:4566",
      KMS_VENDOR_PRINCIPAL_ARN: "arn:aws:iam::999988887777:role/custody",
    });
    expect(code).toBe(1);
    expect(out).toContain("KMS_ENDPOINT points at the development KMS's port on this machine (DEV_KMS_PORT 4566)");
    expect(out).not.toMatch(/listening|\n\s+at /);
  });
});
