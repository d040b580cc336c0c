import { DEMO_PASSWORD } from "../lib/dev/idp/users";
import { DEV_AZURE_CUSTODY_APP } from "../lib/dev/azure-kv/defaults";
import { auditRows, expect, test } from "./fixtures";

// A key outside AWS, in the browser: the demo's Fabrikam tenant registers its key in the
// development Azure Key Vault (reached by @azure/identity and @azure/keyvault-keys over HTTPS,
// through the bearer challenge and Entra's token endpoint in Fabrikam's own tenant), sees the
// role assignment to run, and verifies it live. The demo made the key and gave Custody's app
// its role, as Fabrikam's administrator would with az.

test.describe.configure({ timeout: 180_000 });

const AZURE_PORT = Number(process.env.E2E_PORT ?? 3100) + 2000;
const KEY_URL = `https://fabrikam-keys.vault.localhost:${AZURE_PORT}/keys/custody-cmk`;

test("Fabrikam registers its Azure Key Vault key by URL, sees the role assignment to run, and verifies it", async ({ pageAs }) => {
  const page = await pageAs({ email: "admin@fabrikam.example", password: DEMO_PASSWORD });
  await page.goto("/t/fabrikam/keys");
  await page.locator("label").filter({ hasText: "Azure Key Vault" }).click();

  // A vault outside this deployment's Key Vault domain is refused with the reason, nothing stored.
  await page.getByLabel("Key URL").fill("https://fabrikam-keys.vault.azure.net/keys/custody-cmk");
  await page.getByRole("button", { name: "Register key" }).click();
  await expect(page.getByText(/The key must be in an Azure Key Vault/)).toBeVisible();
  await expect(page.getByText("No key registered yet")).toBeVisible();

  await page.getByLabel("Key URL").fill(KEY_URL);
  await page.getByRole("button", { name: "Register key" }).click();
  await page.waitForURL(/\/t\/fabrikam\/keys\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("key-ref")).toHaveText(KEY_URL);
  await expect(page.getByTestId("key-provider")).toHaveText("Azure Key Vault");
  await expect(page.getByTestId("key-location")).toContainText("fabrikam-keys");
  await expect(page.getByTestId("key-status")).toHaveText("pending verification");
  await expect(page.getByTestId("consent")).toContainText(`az ad sp create --id ${DEV_AZURE_CUSTODY_APP.clientId}`);
  await expect(page.getByTestId("role-assignment")).toContainText(
    `az role assignment create --role "Key Vault Crypto Service Encryption User" --assignee ${DEV_AZURE_CUSTODY_APP.clientId}`,
  );

  await page.getByRole("button", { name: "Verify access" }).click();
  await expect(page.getByText("Verified. This key is now the tenant's primary key")).toBeVisible();
  await expect(page.locator('[data-testid="verify-step"][data-ok="true"]')).toHaveCount(3);
  await expect(page.getByText("Key Vault wrapped a new 256-bit tenant key, in an envelope bound to this tenant.")).toBeVisible();
  await expect(page.getByTestId("key-status")).toHaveText("active");

  await page.goto("/t/fabrikam/keys");
  await expect(page.getByTestId("key-row").getByTestId("key-provider")).toContainText("Azure Key Vault");
  await page.goto("/t/fabrikam/audit");
  for (const action of ["key.registered", "key.verified"]) {
    await expect(auditRows(page, action, "success").first()).toBeVisible();
  }
});
