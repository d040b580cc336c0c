import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { DEV_KMS_ACCOUNT_ID, DEV_KMS_CUSTOMER_ADMIN, DEV_KMS_VENDOR, devKmsClientConfig } from "../lib/dev/kms/defaults";
import { keyPolicyAdmitting } from "../lib/kms/providers/aws/instructions";
import { CustodyClient, isCustodyError } from "../lib/sdk";
import { APP_ORIGIN, DEMO, auditRows, createTenantAsVendor, e2eUser, expect, test, uniqueSuffix } from "./fixtures";

// The whole product in one story, as its three kinds of user meet it: the vendor admin
// onboards a tenant and issues a service credential in the console; the tenant's admin
// registers and verifies the tenant's own KMS key; the vendor's application (the SDK, over
// HTTP to the same server) encrypts and decrypts records; the tenant watches those uses in its
// trail, revokes with one click, and the application is refused at once.

test.describe.configure({ timeout: 180_000 });

const KMS_ENDPOINT = `http://127.0.0.1:${Number(process.env.E2E_IDP_PORT ?? 3101) + 1}`;

test("a vendor's application encrypts through Custody until the tenant revokes in the console", async ({ pageAs }) => {
  const admin = e2eUser("api-admin@cyberdyne.example");
  const suffix = uniqueSuffix();
  const slug = `cyberdyne-${suffix}`;
  const vendor = await pageAs(DEMO.vendor);
  await createTenantAsVendor(vendor, { name: `Cyberdyne ${suffix}`, slug, adminEmail: admin.email });

  // The vendor admin issues a credential for this tenant.
  await vendor.goto("/vendor/credentials");
  const name = `records-app-${suffix}`;
  await vendor.getByLabel("Name", { exact: true }).fill(name);
  await vendor.getByRole("checkbox", { name: /^wrap/ }).check();
  await vendor.getByRole("checkbox", { name: /^unwrap/ }).check();
  await vendor.getByLabel("Tenant", { exact: true }).selectOption({ label: `Cyberdyne ${suffix} (${slug})` });
  await vendor.getByRole("button", { name: "Create credential" }).click();
  const token = (await vendor.getByTestId("issued-token-value").textContent())!.trim();

  // The tenant's admin registers the tenant's own key (made in its KMS account) and verifies it.
  const page = await pageAs(admin);
  await page.goto(`/t/${slug}`);
  const tenantId = (await page.getByText(/^[0-9a-f-]{36}$/).first().textContent())!.trim();
  const customer = new KMSClient(devKmsClientConfig(KMS_ENDPOINT, DEV_KMS_CUSTOMER_ADMIN));
  const policy = keyPolicyAdmitting({ accountId: DEV_KMS_ACCOUNT_ID, vendorPrincipalArn: DEV_KMS_VENDOR.arn, tenants: [{ tenantId, tenantSlug: slug }] });
  const arn = (await customer.send(new CreateKeyCommand({ Policy: policy }))).KeyMetadata!.Arn!;
  customer.destroy();

  const app = new CustodyClient({ baseUrl: APP_ORIGIN, token });
  const meta = { dataLabel: "patient-notes", objectId: `note-${suffix}`, actor: "user:sarah", reason: "save note" };
  // Before a key is verified the service says exactly that.
  const early = await app.encryptRecord(tenantId, "too early", meta).catch((e: unknown) => e);
  expect(isCustodyError(early, "no_key_configured")).toBe(true);

  await page.goto(`/t/${slug}/keys`);
  await page.getByLabel("KMS key ARN").fill(arn);
  await page.getByRole("button", { name: "Register key" }).click();
  await page.getByRole("button", { name: "Verify access" }).click();
  await expect(page.getByText("Verified. This key is now the tenant's primary key")).toBeVisible();

  // The application encrypts a record locally and reads it back.
  const envelope = await app.encryptRecord(tenantId, "Skynet goes live on August 4th", meta);
  expect((await app.decryptRecord(tenantId, envelope, { ...meta, reason: "show note" })).toString()).toBe("Skynet goes live on August 4th");

  // The tenant sees both uses, with the application's name and the reason it gave.
  await page.goto(`/t/${slug}/audit`);
  await expect(auditRows(page, "Data key wrapped", name, "save note").first()).toBeVisible();
  await expect(auditRows(page, "Data key unwrapped", name, "show note").first()).toBeVisible();
  await expect(auditRows(page, "Tenant key leased from KMS").first()).toBeVisible();

  // One click (and the typed confirmation) cuts the application off.
  await page.goto(`/t/${slug}/keys`);
  await page.getByRole("button", { name: "Revoke access" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel(`Type ${slug} to confirm`).fill(slug);
  await dialog.getByRole("button", { name: "Revoke access now" }).click();
  await expect(page.getByTestId("revoke-result")).toContainText("Revocation took effect at");
  const refused = await app.decryptRecord(tenantId, envelope, meta).catch((e: unknown) => e);
  expect(isCustodyError(refused, "access_revoked")).toBe(true);

  await page.goto(`/t/${slug}/audit`);
  await expect(auditRows(page, "Data key unwrapped", name, "denied", "access_revoked").first()).toBeVisible();

  // The vendor sees when the credential was last used (recorded within seconds, in batches).
  await expect
    .poll(async () => {
      await vendor.goto("/vendor/credentials");
      return vendor.locator(`[data-testid="credential-row"][data-name="${name}"]`).getByTestId("credential-last-used").textContent();
    }, { timeout: 20_000, intervals: [1000] })
    .not.toBe("never");
});
