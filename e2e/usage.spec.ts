import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { DEV_KMS_ACCOUNT_ID, DEV_KMS_CUSTOMER_ADMIN, DEV_KMS_VENDOR, devKmsClientConfig } from "../lib/dev/kms/defaults";
import { keyPolicyAdmitting } from "../lib/kms/providers/aws/instructions";
import { CustodyClient, isCustodyError } from "../lib/sdk";
import { APP_ORIGIN, DEMO, createTenantAsVendor, e2eUser, expect, expectNotFoundPage, test, uniqueSuffix } from "./fixtures";

// Usage charts, as the tenant's admin and the vendor read them: after a known set of key-service
// calls (one refused, three wraps, a batch of four, one unwrap), the tenant's usage page shows
// exactly those numbers, by label, service and key; another tenant's admin cannot open it; the
// vendor sees the same counts for the tenant, and none of its labels.

test.describe.configure({ timeout: 180_000 });

const KMS_ENDPOINT = `http://127.0.0.1:${Number(process.env.E2E_IDP_PORT ?? 3101) + 1}`;

test("a tenant admin sees the charts' numbers for the calls made; the vendor sees counts only", async ({ pageAs }) => {
  const admin = e2eUser("api-admin@cyberdyne.example");
  const otherAdmin = e2eUser("keys-other@oscorp.example");
  const suffix = uniqueSuffix();
  const slug = `usage-${suffix}`;
  const otherSlug = `usage-other-${suffix}`;
  const vendor = await pageAs(DEMO.vendor);
  await createTenantAsVendor(vendor, { name: `Usage ${suffix}`, slug, adminEmail: admin.email });
  await createTenantAsVendor(vendor, { name: `Usage other ${suffix}`, slug: otherSlug, adminEmail: otherAdmin.email });

  await vendor.goto("/vendor/credentials");
  const name = `usage-app-${suffix}`;
  await vendor.getByLabel("Name", { exact: true }).fill(name);
  await vendor.getByRole("checkbox", { name: /^wrap/ }).check();
  await vendor.getByRole("checkbox", { name: /^unwrap/ }).check();
  await vendor.getByLabel("Tenant", { exact: true }).selectOption({ label: `Usage ${suffix} (${slug})` });
  await vendor.getByRole("button", { name: "Create credential" }).click();
  const token = (await vendor.getByTestId("issued-token-value").textContent())!.trim();

  // Before any use, the page says what will appear.
  const page = await pageAs(admin);
  await page.goto(`/t/${slug}/usage`);
  await expect(page.getByTestId("usage-hourly").getByText("Nothing yet")).toBeVisible();
  await expect(page.getByTestId("usage-30d-calls")).toHaveText("0");

  await page.goto(`/t/${slug}`);
  const tenantId = (await page.getByText(/^[0-9a-f-]{36}$/).first().textContent())!.trim();
  const app = new CustodyClient({ baseUrl: APP_ORIGIN, token });
  // Refused: no key yet (1 call, 1 data key, label invoices).
  const early = await app.wrap(tenantId, { dataLabel: "invoices", objectId: "inv-0" }).catch((e: unknown) => e);
  expect(isCustodyError(early, "no_key_configured")).toBe(true);

  const customer = new KMSClient(devKmsClientConfig(KMS_ENDPOINT, DEV_KMS_CUSTOMER_ADMIN));
  const policy = keyPolicyAdmitting({ accountId: DEV_KMS_ACCOUNT_ID, vendorPrincipalArn: DEV_KMS_VENDOR.arn, tenants: [{ tenantId, tenantSlug: slug }] });
  const arn = (await customer.send(new CreateKeyCommand({ Policy: policy }))).KeyMetadata!.Arn!;
  customer.destroy();
  await page.goto(`/t/${slug}/keys`);
  await page.getByLabel("KMS key ARN").fill(arn);
  await page.getByRole("button", { name: "Register key" }).click();
  await page.getByRole("button", { name: "Verify access" }).click();
  await expect(page.getByText("Verified. This key is now the tenant's primary key")).toBeVisible();

  // Three wraps and one unwrap of invoices, one batch of four payroll keys.
  const wrapped = [];
  for (let i = 1; i <= 3; i++) wrapped.push(await app.wrap(tenantId, { dataLabel: "invoices", objectId: `inv-${i}` }));
  await app.batchWrap(tenantId, [1, 2, 3, 4].map((i) => ({ dataLabel: "payroll", objectId: `pay-${i}` })));
  await app.unwrap(tenantId, wrapped[0]!.edek, { dataLabel: "invoices", objectId: "inv-1" });

  // The page counts what the background job has not reached yet before it renders.
  await page.goto(`/t/${slug}/usage`);
  for (const period of ["24h", "30d"]) {
    await expect(page.getByTestId(`usage-${period}-items`)).toHaveText("9");
    await expect(page.getByTestId(`usage-${period}-calls`)).toHaveText("6");
    await expect(page.getByTestId(`usage-${period}-refused`)).toHaveText("1");
    await expect(page.getByTestId(`usage-${period}-failed`)).toHaveText("0");
  }
  await expect(page.getByRole("heading", { name: "Key operations per hour, last 48 hours" })).toBeVisible();
  await expect(page.getByTestId("usage-hourly").getByRole("application")).toBeVisible();
  await page.getByTestId("usage-hourly").getByText(/^Show the numbers/).click();
  await expect(page.getByTestId("usage-hourly-table")).toBeVisible();

  const label = (name: string) => page.locator(`[data-testid="usage-labels-row"][data-name="${name}"]`);
  await expect(label("invoices").getByTestId("items")).toHaveText("5");
  await expect(label("invoices").getByTestId("calls")).toHaveText("5");
  await expect(label("invoices").getByTestId("refused")).toHaveText("1");
  await expect(label("payroll").getByTestId("items")).toHaveText("4");
  await expect(label("payroll").getByTestId("calls")).toHaveText("1");
  const service = page.locator(`[data-testid="usage-services-row"][data-name="${name}"]`);
  await expect(service.getByTestId("items")).toHaveText("9");
  await expect(service.getByTestId("calls")).toHaveText("6");
  // One tenant key, used by the five successful calls.
  await expect(page.getByTestId("usage-key-row")).toHaveCount(1);
  await expect(page.getByTestId("usage-key-calls")).toHaveText("5");
  await expect(page.getByTestId("usage-key-last-used")).not.toHaveText("never");
  await expect(page.getByTestId("usage-refusals").getByRole("application")).toBeVisible();

  // Another tenant's admin, asking for this tenant's usage directly, finds nothing there.
  const other = await pageAs(otherAdmin);
  await other.goto(`/t/${slug}/usage`);
  await expectNotFoundPage(other);
  await other.goto(`/t/${otherSlug}/usage`);
  await expect(other.getByTestId("usage-30d-calls")).toHaveText("0");

  // The vendor: this tenant's counts, no labels or record ids.
  await vendor.goto("/vendor/usage");
  const row = vendor.locator(`[data-testid="vendor-usage-row"][data-slug="${slug}"]`);
  await expect(row.getByTestId("calls-30d")).toHaveText("6");
  await expect(row.getByTestId("items-30d")).toHaveText("9");
  await expect(row.getByTestId("calls-24h")).toHaveText("6");
  await expect(row.getByTestId("refused-30d")).toHaveText("1");
  await expect(row.getByTestId("error-rate-30d")).toHaveText("0%");
  await expect(row.getByTestId("last-used")).not.toHaveText("never");
  const otherRow = vendor.locator(`[data-testid="vendor-usage-row"][data-slug="${otherSlug}"]`);
  await expect(otherRow.getByTestId("calls-30d")).toHaveText("0");
  for (const secret of ["invoices", "payroll", "inv-1", name]) await expect(vendor.getByText(secret)).toHaveCount(0);

  // Not for tenant members who are not vendor admins.
  await page.goto("/vendor/usage");
  await expect(page).not.toHaveURL(/\/vendor\/usage/);
});
