import { defineConfig } from "@playwright/test";

// End-to-end tests drive Debian's Chromium against a production build of Custody, signing in
// through the real OIDC flow at the development IdP. scripts/e2e-server.ts gives each run a
// fresh database on TEST_DATABASE_URL's server.
const PORT = Number(process.env.E2E_PORT ?? 3100);
const IDP_PORT = Number(process.env.E2E_IDP_PORT ?? 3101);

export default defineConfig({
  testDir: "e2e",
  // No globalTeardown: Playwright runs it before it stops the web server. The e2e server drops
  // its own database on SIGTERM, after closing its pools (scripts/e2e-server.ts).
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: process.env.CI ? [["list"]] : [["list"], ["html", { open: "never" }]],
  use: {
    baseURL: `http://localhost:${PORT}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
      ],
    },
  },
  webServer: {
    command: "npx tsx --conditions=react-server scripts/e2e-server.ts",
    url: `http://localhost:${PORT}/signin`,
    timeout: 300_000,
    reuseExistingServer: false,
    // Time for Custody to stop and drop its database; past it Playwright kills the server, and
    // the next run drops the database left behind.
    gracefulShutdown: { signal: "SIGTERM", timeout: 30_000 },
    stdout: "pipe",
    stderr: "pipe",
    env: { PORT: String(PORT), DEV_IDP_PORT: String(IDP_PORT), DEV_KMS_PORT: String(IDP_PORT + 1), DEV_AZURE_KV_PORT: String(PORT + 2000), CUSTODY_DATA_DIR: ".custody/e2e" },
  },
});
