import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { PrivatePostgres } from "../tests/helpers/private-postgres";
import { DEMO, submitIdpLogin } from "./fixtures";

// The console while its database restarts: a Custody of its own (npm start's code, demo mode)
// on a PostgreSQL this spec starts and stops. A signed-in admin sees "Custody cannot reach its
// database" (503, Retry-After) instead of an error page, and the page comes back by itself.

const ROOT = path.resolve(__dirname, "..");

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let postgres: PrivatePostgres;
let custody: ChildProcess;
let origin: string;

test.beforeAll(async () => {
  test.setTimeout(240_000);
  postgres = await PrivatePostgres.start();
  const databaseUrl = await postgres.createDatabase("custody_outage");
  const [port, idpPort, kmsPort] = [await freePort(), await freePort(), await freePort()];
  origin = `http://localhost:${port}`;
  custody = spawn(process.execPath, ["--conditions=react-server", "--import", "tsx", "scripts/start.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: "production",
      DATABASE_URL: databaseUrl,
      CUSTODY_DEMO: "true",
      PORT: String(port),
      DEV_IDP_PORT: String(idpPort),
      DEV_KMS_PORT: String(kmsPort),
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
    custody.stdout!.on("data", onData);
    custody.stderr!.on("data", onData);
    custody.once("exit", (code) => reject(new Error(`Custody exited with ${code}:\n${output}`)));
  });
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
  await page.goto(`${origin}/signin`);
  await page.getByRole("button", { name: /^Continue with / }).click();
  await submitIdpLogin(page, DEMO.acmeAdmin.email, DEMO.acmeAdmin.password);
  await page.waitForURL((url) => url.origin === origin && !url.pathname.startsWith("/api/auth"));
  await page.goto(`${origin}/t/acme/audit`);
  await expect(page.getByRole("heading", { name: "Audit trail" })).toBeVisible();

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
