import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { PrivatePostgres } from "../tests/helpers/private-postgres";
import { freePort } from "../tests/helpers/net";
import { DEMO, submitIdpLogin } from "./fixtures";

// The console while its database restarts: a Custody of its own (npm start's code, demo mode)
// on a PostgreSQL this spec starts and stops. A signed-in admin sees "Custody cannot reach its
// database" (503, Retry-After) instead of an error page, and the page comes back by itself.

const ROOT = path.resolve(__dirname, "..");

let postgres: PrivatePostgres;
let custody: ChildProcess;
let databaseUrl: string;
let ports: { port: number; idp: number; kms: number };
let origin: string;

/** npm start's code (demo mode: its own IdP and KMS) on the private database; resolves once it serves. */
async function startCustody(url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--conditions=react-server", "--import", "tsx", "scripts/start.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: "production",
      DATABASE_URL: url,
      CUSTODY_DEMO: "true",
      PORT: String(ports.port),
      DEV_IDP_PORT: String(ports.idp),
      DEV_KMS_PORT: String(ports.kms),
      CUSTODY_DATA_DIR: ".custody/e2e-outage",
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Custody is running at")) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`Custody exited with ${code}:\n${output}`)));
  });
  return child;
}

/** Signs Acme's admin in through this server's own IdP and opens Acme's audit trail. */
async function openAcmeTrail(page: Page): Promise<void> {
  await page.goto(`${origin}/signin`);
  await page.getByRole("button", { name: /^Continue with / }).click();
  await submitIdpLogin(page, DEMO.acmeAdmin.email, DEMO.acmeAdmin.password);
  await page.waitForURL((url) => url.origin === origin && !url.pathname.startsWith("/api/auth"));
  await page.goto(`${origin}/t/acme/audit`);
  await expect(page.getByRole("heading", { name: "Audit trail" })).toBeVisible();
}

test.beforeAll(async () => {
  test.setTimeout(240_000);
  postgres = await PrivatePostgres.start();
  databaseUrl = await postgres.createDatabase("custody_outage");
  ports = { port: await freePort(), idp: await freePort(), kms: await freePort() };
  origin = `http://localhost:${ports.port}`;
  custody = await startCustody(databaseUrl);
});

test.afterAll(async () => {
  if (custody && custody.exitCode === null) {
    const exited = new Promise((resolve) => custody.once("exit", resolve));
    custody.kill("SIGTERM");
    await exited;
  }
  await postgres?.close();
});

test("a signed-in admin sees the database outage named, answered 503, and the page returns by itself", async ({ page }) => {
  test.setTimeout(120_000);
  await openAcmeTrail(page);

  await postgres.stop("fast");
  // The first request to meet the outage may be rendered by Next (its error page, which asks
  // readiness and names the database); from then on the server answers 503 at once.
  await page.goto(`${origin}/t/acme/audit`);
  await expect(page.getByRole("heading", { name: "Custody cannot reach its database" })).toBeVisible({ timeout: 20_000 });
  await expect
    .poll(async () => (await page.request.get(`${origin}/t/acme/audit`, { headers: { accept: "text/html" } })).status(), { timeout: 20_000 })
    .toBe(503);
  const gated = await page.request.get(`${origin}/t/acme/audit`, { headers: { accept: "text/html" } });
  expect(gated.headers()["retry-after"]).toBeTruthy();
  expect(await gated.text()).not.toMatch(/ECONNREFUSED|57P0|stack|at \//);
  const ready = await page.request.get(`${origin}/api/health/ready`);
  expect(ready.status()).toBe(503);
  expect(await ready.json()).toMatchObject({ checks: { database: "unreachable" } });
  await page.goto(`${origin}/t/acme/audit`);
  await expect(page.getByRole("heading", { name: "Custody cannot reach its database" })).toBeVisible();

  await postgres.startServer();
  // No reload by the person: the page retries by itself.
  await expect(page.getByRole("heading", { name: "Audit trail" })).toBeVisible({ timeout: 30_000 });
  expect((await page.request.get(`${origin}/api/health/ready`)).status()).toBe(200);
  expect(custody.exitCode).toBeNull();
});

test("killed with SIGKILL, a new Custody process on the same database picks up where it left off", async ({ page }) => {
  test.setTimeout(180_000);
  await openAcmeTrail(page);
  const headBefore = await page.request.get(`${origin}/api/health/ready`);
  expect(headBefore.status()).toBe(200);

  const exited = new Promise((resolve) => custody.once("exit", resolve));
  custody.kill("SIGKILL");
  await exited;
  await expect(page.request.get(`${origin}/api/health/live`)).rejects.toThrow();
  custody = await startCustody(databaseUrl);
  // Sessions live in the database: the admin is still signed in, and the trail (with the
  // sign-in recorded before the kill) verifies.
  await page.goto(`${origin}/t/acme/audit`);
  await expect(page.getByRole("heading", { name: "Audit trail" })).toBeVisible();
  await expect(page.getByRole("cell", { name: /Signed in/i }).first()).toBeVisible();
  expect((await page.request.get(`${origin}/api/health/ready`)).status()).toBe(200);
});
