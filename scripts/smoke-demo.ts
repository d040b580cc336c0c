// Runs the README's first command as a new user would (`npm start`, nothing configured) in a
// scratch data folder, and checks the demo comes up: the embedded database, the dev IdP, the
// sign-in page, the seeded demo; then stops it with SIGTERM and checks nothing is left running.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { childEnvironment } from "../lib/config/environment";

const PORT = 3200;
const IDP_PORT = 3201;
const PG_PORT = 54339;
const KMS_PORT = 3202;

function fail(message: string): never {
  console.error(`smoke: FAILED: ${message}`);
  process.exit(1);
}

/** A malformed setting must stop start-up at once with a message naming it, and no stack trace. */
async function refusesBadConfiguration(): Promise<void> {
  const child = spawn("npm", ["start"], {
    env: childEnvironment({ OIDC_ISSUER: "not a url", OIDC_CLIENT_ID: "custody", PORT: "eighty" }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code === 0) fail("npm start accepted a malformed configuration");
  for (const expected of ["PORT must be a port number", "OIDC_ISSUER must be a URL", "OIDC_CLIENT_SECRET must be set together"]) {
    if (!output.includes(expected)) fail(`bad-configuration output lacks "${expected}":\n${output}`);
  }
  if (/\n\s+at /.test(output)) fail(`bad-configuration output shows a stack trace:\n${output}`);
  console.log("smoke: malformed configuration refused with a clear message");
}

async function main(): Promise<void> {
  await refusesBadConfiguration();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "custody-smoke-"));
  const env: NodeJS.ProcessEnv = childEnvironment({ PORT: String(PORT), DEV_IDP_PORT: String(IDP_PORT), EMBEDDED_PG_PORT: String(PG_PORT), DEV_KMS_PORT: String(KMS_PORT), CUSTODY_DATA_DIR: dataDir });
  for (const name of ["DATABASE_URL", "OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "NEXTAUTH_URL", "NEXTAUTH_SECRET", "KMS_ENDPOINT", "KMS_VENDOR_PRINCIPAL_ARN"]) delete env[name];

  const started = Date.now();
  const child = spawn("npm", ["start"], { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));

  const deadline = Date.now() + 240_000;
  while (!output.includes("Custody is running at")) {
    if (child.exitCode !== null) fail(`npm start exited with ${child.exitCode}:\n${output.slice(-2000)}`);
    if (Date.now() > deadline) fail(`not up after 240 s:\n${output.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  console.log(`smoke: up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const expected of ["admin@acme.example", "custody-demo", `http://localhost:${PORT}`, "arn:aws:kms:us-east-1:111122223333:key/"]) {
    if (!output.includes(expected)) fail(`start-up output does not mention ${expected}`);
  }

  const signin = await fetch(`http://localhost:${PORT}/signin`);
  const html = await signin.text();
  if (signin.status !== 200 || !html.includes("Continue with")) fail(`/signin answered ${signin.status}`);
  const discovery = await fetch(`http://localhost:${IDP_PORT}/.well-known/openid-configuration`);
  if (!discovery.ok) fail(`dev IdP discovery answered ${discovery.status}`);
  const protectedPage = await fetch(`http://localhost:${PORT}/vendor`, { redirect: "manual" });
  if (protectedPage.status !== 307 || !protectedPage.headers.get("location")?.includes("/signin")) {
    fail(`/vendor did not redirect to sign-in (status ${protectedPage.status})`);
  }

  // The key service answers on the same port, outside Next, with the printed demo credential.
  const openapi = await fetch(`http://localhost:${PORT}/api/v1/openapi.json`);
  const document = (await openapi.json()) as { openapi?: string };
  if (openapi.status !== 200 || !document.openapi?.startsWith("3.1")) fail(`/api/v1/openapi.json answered ${openapi.status}`);
  const token = fs.readFileSync(path.join(dataDir, "demo-service-token"), "utf8").trim();
  if (!output.includes(token)) fail("start-up output does not show the demo service credential");
  const tenantId = /"tenantId":"([0-9a-f-]{36})"/.exec(output)?.[1];
  if (!tenantId) fail("start-up output does not show the curl example with the demo tenant id");
  const wrap = await fetch(`http://localhost:${PORT}/api/v1/wrap`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ tenantId, metadata: { dataLabel: "invoices" } }),
  });
  const wrapBody = (await wrap.json()) as { error?: { code?: string } };
  // Acme's key is registered and verified by the newcomer in the console; until then the service says so.
  if (wrap.status !== 409 || wrapBody.error?.code !== "no_key_configured") fail(`demo wrap answered ${wrap.status} ${JSON.stringify(wrapBody)}`);
  const anonymous = await fetch(`http://localhost:${PORT}/api/v1/wrap`, { method: "POST" });
  if (anonymous.status !== 401) fail(`an unauthenticated wrap answered ${anonymous.status}`);

  process.kill(-child.pid!, "SIGTERM");
  const exited = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 20_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  if (!exited) fail("npm start did not stop within 20 s of SIGTERM");
  // Stopping is quiet: no database server lines about the connections it ends, no errors, no
  // Node.js warnings. (Ctrl-C reaches PostgreSQL too, which stops at once; the key-state
  // listener may still log, at warn, that its connection ended.)
  const stopping = output.indexOf("SIGTERM received, stopping Custody");
  if (stopping < 0) fail(`npm start did not say it was stopping:\n${output.slice(-2000)}`);
  const afterStop = output.slice(stopping);
  const noisy = afterStop.split("\n").filter((line) => /\b(FATAL|ERROR|PANIC):|"level":(50|60)|\(node:\d+\) \w*Warning/.test(line));
  if (noisy.length > 0) fail(`stopping printed:\n${noisy.join("\n")}`);
  // PostgreSQL removes its pid file as the last step of shutting down.
  const pidFile = path.join(dataDir, "pgdata", "postmaster.pid");
  const stopDeadline = Date.now() + 20_000;
  while (fs.existsSync(pidFile) && Date.now() < stopDeadline) await new Promise((r) => setTimeout(r, 100));
  if (fs.existsSync(pidFile)) fail("embedded PostgreSQL was left running");
  fs.rmSync(dataDir, { recursive: true, force: true });
  console.log("smoke: passed (sign-in page, dev IdP, protected redirect, key service with the demo credential, clean and quiet shutdown)");
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
