import type { Page } from "@playwright/test";
import { DEMO, type User, auditRows, createTenantAsVendor, customerKey, e2eUser, expect, test, uniqueSuffix } from "./fixtures";

// Rotating the customer's KMS key in the browser: a second key verified becomes primary, the
// keys page says what the old key still wraps, re-wraps it under the primary with progress until
// nothing depends on the old key, and retiring the old key is a confirmed, audited act.

test.describe.configure({ timeout: 180_000 });

async function registerAndVerify(page: Page, slug: string, arn: string): Promise<void> {
  await page.goto(`/t/${slug}/keys`);
  await page.getByLabel("KMS key ARN").fill(arn);
  await page.getByRole("button", { name: "Register key" }).click();
  await page.waitForURL(new RegExp(`/t/${slug}/keys/[0-9a-f-]{36}$`));
  await page.getByRole("button", { name: "Verify access" }).click();
  await expect(page.getByText("Verified. This key is now the tenant's primary key")).toBeVisible();
}

test("a tenant admin re-wraps under the new primary key, then retires the old one", async ({ pageAs }) => {
  const admin: User = e2eUser("rotation-admin@umbrella.example");
  const suffix = uniqueSuffix();
  const slug = `umbrella-${suffix}`;
  await createTenantAsVendor(await pageAs(DEMO.vendor), { name: `Umbrella ${suffix}`, slug, adminEmail: admin.email });
  const page = await pageAs(admin);
  await page.goto(`/t/${slug}`);
  const tenantId = (await page.getByText(/^[0-9a-f-]{36}$/).first().textContent())!.trim();

  const oldArn = await customerKey({ tenantId, slug });
  await registerAndVerify(page, slug, oldArn);
  await page.goto(`/t/${slug}/keys`);
  await expect(page.getByTestId("rotation-panel")).toHaveCount(0); // one key: nothing to rotate

  const newArn = await customerKey({ tenantId, slug });
  await registerAndVerify(page, slug, newArn);
  await page.goto(`/t/${slug}/keys`);
  await expect(page.getByTestId("still-wrapping")).toContainText(`1 tenant key is still wrapped by ${oldArn}`);
  await page.getByRole("button", { name: "Re-wrap under the primary key" }).click();
  await expect(page.getByTestId("rotation-done")).toContainText(`Nothing depends on ${oldArn} any more`);
  await expect(page.getByTestId("still-wrapping")).toHaveCount(0);

  await page.getByTestId("retirable").getByRole("button", { name: "Retire this key" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toContainText("Custody will never use");
  await dialog.getByRole("button", { name: "Retire the key" }).click();
  await expect(page.getByTestId("rotation-message")).toContainText("Key retired: Custody never uses it again.");
  await expect(page.locator(`[data-testid="key-row"][data-key-ref="${oldArn}"]`).getByTestId("key-status")).toHaveText("retired");

  await page.goto(`/t/${slug}/audit`);
  for (const action of ["key.rotation_started", "key.rotation_completed", "key.retired"]) {
    await expect(auditRows(page, action, "success").first()).toBeVisible();
  }
});
