import fs from "node:fs";
import path from "node:path";
import { DEMO_PASSWORD } from "../lib/dev/idp/users";
import { expect, test } from "./fixtures";

// A key in HashiCorp Vault / OpenBao through the browser: the demo's Initech tenant registers
// the transit key its administrator set up in the development Vault (https with the demo's own
// CA), sees the HCL policy and AppRole commands to give Custody, and verifies live through
// Custody's Vault provider — transit/encrypt, transit/decrypt, then reading the key.

test.describe.configure({ timeout: 180_000 });

/** The development Vault's address: the e2e server's demo keeps its port in its data folder. */
function devVaultAddress(): string {
  const port = fs.readFileSync(path.resolve(".custody/e2e/dev-vault/port"), "utf8").trim();
  return `https://127.0.0.1:${port}`;
}

test("Initech registers its Vault transit key, sees the policy to give Custody, and verifies it", async ({ pageAs }) => {
  const page = await pageAs({ email: "admin@initech.example", password: DEMO_PASSWORD });
  const address = devVaultAddress();
  await page.goto("/t/initech/keys");
  // The provider comes first; its own fields follow.
  await page.getByText("HashiCorp Vault / OpenBao", { exact: true }).click();
  await expect(page.getByRole("radio", { name: "HashiCorp Vault / OpenBao" })).toBeChecked();

  // http:// is refused with the reason; nothing is registered.
  await page.getByLabel("Vault address").fill(address.replace("https://", "http://"));
  await page.getByLabel("Key name").fill("custody-initech");
  await page.getByRole("button", { name: "Register key" }).click();
  await expect(page.getByText(/must use https/)).toBeVisible();
  await expect(page.getByText("No key registered yet")).toBeVisible();

  await page.getByLabel("Vault address").fill(address);
  await page.getByRole("button", { name: "Register key" }).click();
  await page.waitForURL(/\/t\/initech\/keys\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("key-ref")).toHaveText(`${address}/v1/transit/keys/custody-initech`);
  await expect(page.getByTestId("key-provider")).toHaveText("HashiCorp Vault / OpenBao");
  await expect(page.getByTestId("vault-policy")).toContainText('path "transit/decrypt/custody-initech"');
  await expect(page.getByTestId("vault-approle")).toContainText("vault write auth/approle/role/custody-initech token_policies=custody-initech");

  await page.getByRole("button", { name: "Verify access" }).click();
  await expect(page.getByText("Verified. This key is now the tenant's primary key")).toBeVisible();
  await expect(page.locator('[data-testid="verify-step"][data-ok="true"]')).toHaveCount(3);
  await expect(page.getByTestId("key-status")).toHaveText("active");
});
