import { DEMO, expect, test } from "./fixtures";

// Each page says what it is: in the browser tab ("Tenants · Custody"), in its main heading, and
// with Custody's icon rather than a 404 for /favicon.ico.

test("the favicon and app icons are served from public/ and announced by every page", async ({ newPage }) => {
  const page = await newPage();
  for (const [file, type] of [
    ["/favicon.ico", /^image\/(x-icon|vnd\.microsoft\.icon)/],
    ["/icon.svg", /^image\/svg\+xml/],
    ["/apple-touch-icon.png", /^image\/png/],
  ] as const) {
    const response = await page.request.get(file);
    expect(response.status(), file).toBe(200);
    expect(response.headers()["content-type"], file).toMatch(type);
  }
  await page.goto("/signin");
  await expect(page).toHaveTitle("Sign in · Custody");
  await expect(page.locator('link[rel="icon"][href^="/favicon.ico"]')).toHaveCount(1);
  await expect(page.locator('link[rel="icon"][href^="/icon.svg"]')).toHaveCount(1);
  await expect(page.locator('link[rel="apple-touch-icon"]')).toHaveCount(1);
});

test("vendor pages are headed and titled by what they are, not just 'Vendor'", async ({ pageAs }) => {
  const page = await pageAs(DEMO.vendor);
  for (const [path, heading, title] of [
    ["/vendor", "Tenants", "Tenants · Custody"],
    ["/vendor/credentials", "Service credentials", "Service credentials · Custody"],
    ["/vendor/kms", "KMS set-up", "KMS set-up · Custody"],
    ["/vendor/audit", "Audit trail", "Vendor audit trail · Custody"],
    ["/vendor/usage", "Usage", "Vendor usage · Custody"],
  ] as const) {
    await page.goto(path);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(heading);
    await expect(page).toHaveTitle(title);
  }
});

test("tenant pages are titled by what they are", async ({ pageAs }) => {
  const page = await pageAs(DEMO.acmeAdmin);
  for (const [path, title] of [
    ["/t/acme", "Overview · Custody"],
    ["/t/acme/keys", "Keys · Custody"],
    ["/t/acme/members", "Members · Custody"],
    ["/t/acme/audit", "Audit trail · Custody"],
    ["/t/acme/audit/integrity", "Audit integrity · Custody"],
    ["/t/acme/sinks", "Log sinks · Custody"],
    ["/t/acme/usage", "Usage · Custody"],
  ] as const) {
    await page.goto(path);
    await expect(page).toHaveTitle(title);
  }
});
