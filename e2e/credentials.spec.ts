import type { Locator, Page } from "@playwright/test";
import { DEMO, auditRows, expect, test, uniqueSuffix } from "./fixtures";

// Service credentials in the vendor console: the vendor admin creates one restricted to the
// demo tenant, sees its token exactly once, rotates it (two active, a third refused), revokes
// the old one; the vendor's and the tenant's audit trails show each step.

test.describe.configure({ timeout: 120_000 });

const TOKEN = /^csk_([0-9a-f]{32})_[A-Za-z0-9_-]{43}$/;

function credentialRows(page: Page, name: string): Locator {
  return page.locator(`[data-testid="credential-row"][data-name="${name}"]`);
}

function credentialRow(page: Page, id: string): Locator {
  return page.locator(`[data-testid="credential-row"][data-id="${id}"]`);
}

/** The credential id a token carries, as a UUID with dashes. */
function idOf(token: string): string {
  const hex = TOKEN.exec(token)![1]!;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

async function expectNoTokenOnPage(page: Page, tokens: string[]): Promise<void> {
  await expect(page.getByTestId("issued-token")).toHaveCount(0);
  const html = await page.content();
  // The secret is everything after csk_<id>_ (base64url: it may itself contain "_").
  for (const token of tokens) expect(html).not.toContain(token.slice(token.indexOf("_", 4) + 1));
}

test("a vendor admin creates a credential, sees the token once, rotates and revokes it", async ({ pageAs }) => {
  const page = await pageAs(DEMO.vendor);
  const name = `billing-${uniqueSuffix()}`;

  await page.goto("/vendor");
  await page.getByRole("link", { name: "Service credentials" }).click();
  await expect(page).toHaveURL(/\/vendor\/credentials$/);
  await expect(page.getByRole("heading", { name: "Service credentials", level: 1 })).toBeVisible();

  // No scope chosen: refused with the reason, the name kept, nothing created.
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Create credential" }).click();
  await expect(page.getByText("Choose at least one scope.")).toBeVisible();
  await expect(page.getByLabel("Name", { exact: true })).toHaveValue(name);
  await expect(credentialRows(page, name)).toHaveCount(0);

  await page.getByRole("checkbox", { name: /^wrap/ }).check();
  await page.getByRole("checkbox", { name: /^unwrap/ }).check();
  await page.getByLabel("Tenant", { exact: true }).selectOption({ label: "Acme Corp (acme)" });
  await page.getByRole("button", { name: "Create credential" }).click();

  const issued = page.getByTestId("issued-token");
  await expect(issued).toContainText("It will not be shown again.");
  await expect(issued.getByRole("button", { name: "Copy token" })).toBeVisible();
  const token = (await page.getByTestId("issued-token-value").textContent())!.trim();
  expect(token).toMatch(TOKEN);
  const firstId = idOf(token);

  const first = credentialRow(page, firstId);
  await expect(first.getByTestId("credential-status")).toHaveText("active");
  await expect(first).toContainText("Acme Corp");
  // The tenant id the application's calls must name, beside the tenant it is restricted to.
  await expect(first).toContainText(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
  await expect(first).toContainText("wrap");
  await expect(first).toContainText("unwrap");
  await expect(first.getByTestId("credential-last-used")).toHaveText("never");
  await expect(first.getByTestId("credential-prefix")).toHaveText(`${token.slice(0, 12)}…`);
  // The form is empty again for the next one.
  await expect(page.getByLabel("Name", { exact: true })).toHaveValue("");

  // Shown once: a reload has no trace of it.
  await page.reload();
  await expect(credentialRow(page, firstId)).toBeVisible();
  await expectNoTokenOnPage(page, [token]);

  // Rotate: a second token under the same name, shown once in a dialog; both active.
  await credentialRow(page, firstId).getByRole("button", { name: `Rotate ${name}` }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toContainText(`“${name}” rotated`);
  await expect(dialog.getByTestId("issued-token")).toContainText("It will not be shown again.");
  const rotatedToken = (await dialog.getByTestId("issued-token-value").textContent())!.trim();
  expect(rotatedToken).toMatch(TOKEN);
  expect(rotatedToken).not.toBe(token);
  const secondId = idOf(rotatedToken);
  await dialog.getByRole("button", { name: "I have stored the token" }).click();
  await expect(dialog).toHaveCount(0);

  await expect(credentialRows(page, name)).toHaveCount(2);
  const second = credentialRow(page, secondId);
  await expect(second.getByTestId("credential-status")).toHaveText("active");
  await expect(second.getByTestId("credential-rotated-from")).toHaveText(`rotated from ${token.slice(0, 12)}…`);
  await expect(second).toContainText("Acme Corp");
  await expect(credentialRow(page, firstId).getByTestId("credential-status")).toHaveText("active");

  // A third active credential of the name is refused.
  await second.getByRole("button", { name: `Rotate ${name}` }).click();
  await expect(second.getByText(`Two credentials named "${name}" are already active.`)).toBeVisible();
  await expect(credentialRows(page, name)).toHaveCount(2);

  await page.reload();
  await expectNoTokenOnPage(page, [token, rotatedToken]);

  // Revoke the old one, after a confirmation that says what stops.
  await credentialRow(page, firstId).getByRole("button", { name: `Revoke ${name}` }).click();
  const confirm = page.getByRole("dialog");
  await expect(confirm).toContainText(`Revoke “${name}”?`);
  await expect(confirm).toContainText("the key service refuses every call made with this credential");
  await expect(confirm).toContainText("restricted to Acme Corp");
  await confirm.getByRole("button", { name: "Revoke credential" }).click();
  await expect(credentialRow(page, firstId).getByTestId("credential-status")).toHaveText("revoked");
  await expect(credentialRow(page, firstId)).toContainText(`by ${DEMO.vendor.email}`);
  await expect(credentialRow(page, firstId).getByRole("button", { name: `Rotate ${name}` })).toHaveCount(0);
  await expect(credentialRow(page, secondId).getByTestId("credential-status")).toHaveText("active");

  // The vendor's trail has every step…
  await page.goto("/vendor/audit");
  for (const action of ["credential.created", "credential.rotated", "credential.revoked"]) {
    await expect(auditRows(page, action, name, "success").first()).toBeVisible();
  }
  await expect(auditRows(page, "credential.rotated", name, "denied").first()).toBeVisible();
  await expectNoTokenOnPage(page, [token, rotatedToken]);

  // …and so has the trail of the tenant the credential is restricted to.
  const tenantAdmin = await pageAs(DEMO.acmeAdmin);
  await tenantAdmin.goto("/t/acme/audit");
  for (const action of ["credential.created", "credential.rotated", "credential.revoked"]) {
    await expect(auditRows(tenantAdmin, action, name, "success").first()).toBeVisible();
  }
});
