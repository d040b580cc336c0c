import fs from "node:fs";
import pg from "pg";
import { auditRows, createTenantAsVendor, customerKey, DEMO, expect, expectNotFoundPage, test, tenantRow, uniqueSuffix } from "./fixtures";

// The vendor's fleet table and a tenant's detail, as a vendor admin uses them: search, state
// filter, sortable columns, the tenant's id to copy, and a detail page with its health, admins
// and onboarding. Tenant admins cannot open any of it.

test.describe.configure({ timeout: 120_000 });

test("the vendor finds a tenant, sorts the fleet and opens the tenant's detail", async ({ pageAs }) => {
  const vendor = await pageAs(DEMO.vendor);
  await vendor.goto("/vendor");
  const table = vendor.getByTestId("fleet-table");
  await expect(tenantRow(vendor, "acme")).toBeVisible();
  await expect(vendor.getByTestId("fleet-range")).toContainText(/of \d+ tenants?/);

  // Search narrows the table to Acme; its id is shown, ready to copy for the key-service API.
  await vendor.getByLabel("Search").fill("acme");
  await vendor.getByRole("button", { name: "Show" }).click();
  await expect(vendor).toHaveURL(/\/vendor\?q=acme(&state=)?(&rotation=)?$/);
  await expect(tenantRow(vendor, "acme")).toBeVisible();
  const acmeId = (await tenantRow(vendor, "acme").getByTestId("tenant-id").textContent())!.trim();
  expect(acmeId).toMatch(/^[0-9a-f-]{36}$/);
  await expect(tenantRow(vendor, "acme").getByRole("button", { name: "Copy id" })).toBeVisible();

  // A search by id finds the same tenant; one that matches nothing says so.
  await vendor.goto(`/vendor?q=${acmeId}`);
  await expect(vendor.getByTestId("tenant-row")).toHaveCount(1);
  await vendor.goto("/vendor?q=no-such-tenant-anywhere");
  await expect(vendor.getByText("No tenant matches")).toBeVisible();

  // Sorting by name, then flipping it: the column header says which way.
  await vendor.goto("/vendor");
  await table.getByRole("link", { name: "Tenant" }).click();
  await expect(vendor).toHaveURL(/sort=name/);
  await expect(table.getByRole("columnheader", { name: "Tenant" })).toHaveAttribute("aria-sort", "ascending");
  const ascending = await vendor.getByTestId("tenant-row").evaluateAll((rows) => rows.map((row) => row.querySelector("a")?.textContent ?? ""));
  expect(ascending).toEqual([...ascending].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));
  await table.getByRole("link", { name: "Tenant" }).click();
  await expect(table.getByRole("columnheader", { name: "Tenant" })).toHaveAttribute("aria-sort", "descending");

  // A hand-edited URL falls back to the default and says so.
  await vendor.goto("/vendor?sort=bogus");
  await expect(vendor.getByText(/Ignored a value the table does not understand \(sort\)/)).toBeVisible();
  await expect(tenantRow(vendor, "acme")).toBeVisible();

  // The detail: health, onboarding, admins; never key identifiers.
  await vendor.goto("/vendor?q=acme");
  await tenantRow(vendor, "acme").getByRole("link", { name: "Acme" }).click();
  await expect(vendor).toHaveURL(`/vendor/tenants/${acmeId}`);
  await expect(vendor).toHaveTitle(/^Acme.* · Tenants · Custody$/);
  await expect(vendor.getByTestId("tenant-id")).toHaveText(acmeId);
  await expect(vendor.getByTestId("tenant-admin").filter({ hasText: DEMO.acmeAdmin.email })).toBeVisible();
  await expect(vendor.locator('[data-step="invited"]')).toHaveAttribute("data-done", "true");
  expect(await vendor.locator("main").textContent()).not.toMatch(/arn:aws:kms/);

  // Acme sees, in its own trail, that the vendor's staff looked.
  const admin = await pageAs(DEMO.acmeAdmin);
  await admin.goto("/t/acme/audit");
  await expect(auditRows(admin, "Vendor staff viewed this tenant", DEMO.vendor.email).first()).toBeVisible();
});

test("a made-up tenant id is a 404, and a tenant admin is sent back to their own console", async ({ pageAs }) => {
  const vendor = await pageAs(DEMO.vendor);
  await vendor.goto("/vendor/tenants/00000000-0000-4000-8000-00000000abcd");
  await expectNotFoundPage(vendor);
  await vendor.goto("/vendor/tenants/not-a-uuid");
  await expectNotFoundPage(vendor);

  await vendor.goto("/vendor?q=acme");
  const acmeId = (await tenantRow(vendor, "acme").getByTestId("tenant-id").textContent())!.trim();
  const admin = await pageAs(DEMO.acmeAdmin);
  await admin.goto(`/vendor/tenants/${acmeId}`);
  // Sent home, to their own tenant's console: nothing of the vendor's view is rendered.
  await expect(admin).toHaveURL(/\/t\/acme$/);
  await expect(admin.getByTestId("tenant-admin")).toHaveCount(0);
});

test("a tenant whose first admin has not signed in shows the invitation's deadline, and the vendor re-sends it", async ({ pageAs }) => {
  const vendor = await pageAs(DEMO.vendor);
  const suffix = uniqueSuffix();
  const slug = `waiting-${suffix}`;
  const adminEmail = `first-${suffix}@waiting.example`;
  await createTenantAsVendor(vendor, { name: `Waiting ${suffix}`, slug, adminEmail });
  await tenantRow(vendor, slug).getByRole("link", { name: `Waiting ${suffix}` }).click();
  const admin = vendor.getByTestId("tenant-admin").filter({ hasText: adminEmail });
  await expect(admin.getByTestId("tenant-admin-sign-in")).toContainText("Invited; must sign in before");
  await admin.getByRole("button", { name: `Re-send the invitation to ${adminEmail}` }).click();
  await expect(admin.getByRole("status")).toContainText("Invitation re-sent: usable until");
});

test("the vendor's KMS set-up page gives the vendor's side of every provider, and says which ones tenants are offered", async ({ pageAs }) => {
  const vendor = await pageAs(DEMO.vendor);
  await vendor.goto("/vendor");
  await vendor.getByRole("link", { name: "KMS set-up" }).click();
  await expect(vendor).toHaveURL(/\/vendor\/kms$/);
  const providers = vendor.getByTestId("vendor-kms-provider");
  await expect(providers).toHaveCount(4);
  // The demo runs a development server for each, so all four are configured and offered.
  for (const name of ["aws", "azure", "gcp", "vault"]) {
    await expect(providers.and(vendor.locator(`[data-provider="${name}"]`)).getByTestId("vendor-kms-configured")).toHaveText("configured: offered to tenants");
  }
  await expect(providers.and(vendor.locator('[data-provider="gcp"]'))).toContainText("Google Cloud KMS");
});

test("a tenant admin sets the KMS-key rotation policy on the overview; an overdue key is explained there and flagged in the fleet", async ({ pageAs }) => {
  const vendor = await pageAs(DEMO.vendor);
  const suffix = uniqueSuffix();
  const slug = `rotor-${suffix}`;
  const adminEmail = `admin-${suffix}@rotor.example`;
  await createTenantAsVendor(vendor, { name: `Rotor ${suffix}`, slug, adminEmail });
  const admin = await pageAs({ email: adminEmail, password: DEMO.vendor.password });
  await admin.goto(`/t/${slug}`);
  const tenantId = (await admin.getByTestId("tenant-id").textContent())!.trim();
  const card = admin.getByTestId("kms-rotation");
  await expect(card).toContainText("rotate the primary KMS key every 365 days");
  await expect(card.getByTestId("kms-rotation-state")).toContainText("No primary KMS key yet");

  // Bad input is refused next to the field, and nothing changes.
  await card.getByLabel("Rotate the KMS key every (days)").fill("0");
  await card.getByRole("button", { name: "Save rotation policy" }).click();
  await expect(card.getByText("Enter a whole number of days from 1 to 3650, or leave it empty.").first()).toBeVisible();
  await admin.reload();
  await expect(card).toContainText("every 365 days");

  const arn = await customerKey({ tenantId, slug });
  await admin.goto(`/t/${slug}/keys`);
  await admin.getByLabel("KMS key ARN").fill(arn);
  await admin.getByRole("button", { name: "Register key" }).click();
  await admin.getByRole("button", { name: "Verify access" }).click();
  await expect(admin.getByText("Verified. This key is now the tenant's primary key")).toBeVisible();

  // A key registered today is not overdue under any policy of a day or more: the overview says when it is due.
  await admin.goto(`/t/${slug}`);
  await card.getByLabel("Rotate the KMS key every (days)").fill("1");
  await card.getByRole("button", { name: "Save rotation policy" }).click();
  await expect(card.getByRole("status").filter({ hasText: "Rotation policy saved" })).toBeVisible();
  await expect(card.getByTestId("kms-rotation-state")).toContainText("is 0 days old; rotation is due");
  await expect(card.getByTestId("kms-rotation-state")).toContainText(arn);

  // The change is in the tenant's trail.
  await admin.goto(`/t/${slug}/audit`);
  await expect(auditRows(admin, "KMS key rotation policy changed", adminEmail).first()).toBeVisible();

  // The vendor's fleet filters on overdue rotation: this tenant is not (yet) among them.
  await vendor.goto(`/vendor?q=${slug}&rotation=overdue`);
  await expect(vendor.getByText("No tenant matches")).toBeVisible();
  await vendor.goto(`/vendor?q=${slug}`);
  await expect(tenantRow(vendor, slug).getByTestId("tenant-rotation")).toHaveText("—");

  // Four hundred days on (the key's registration moved back, as time would): the overview says
  // which key, how old, and what to do; the fleet flags the tenant and its filter finds it.
  await backdateKeys(tenantId, 400);
  await admin.goto(`/t/${slug}`);
  const overdue = card.getByTestId("kms-rotation-overdue");
  await expect(overdue).toContainText("Your KMS key is due for rotation");
  await expect(overdue).toContainText(arn);
  await expect(overdue).toContainText("it is 400 days old, 399 days past your 1 day policy");
  await expect(overdue).toContainText("Register a new KMS key");
  await expect(overdue).toContainText("Re-wrap your tenant keys under the new key");
  await vendor.goto(`/vendor?q=${slug}&rotation=overdue`);
  await expect(tenantRow(vendor, slug).getByTestId("tenant-rotation")).toHaveText("overdue by 399 days");
  await expect(tenantRow(vendor, slug)).toHaveAttribute("data-rotation", "overdue");
});

/** Moves a tenant's KMS keys' registration `days` back, in the e2e server's database. */
async function backdateKeys(tenantId: string, days: number): Promise<void> {
  const url = new URL(process.env.TEST_DATABASE_URL || "postgresql://postgres@127.0.0.1:5432/postgres");
  url.pathname = `/${fs.readFileSync(".custody/e2e/database-name", "utf8").trim()}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query("UPDATE kms_keys SET created_at = created_at - make_interval(days => $2) WHERE tenant_id = $1", [tenantId, days]);
  } finally {
    await client.end();
  }
}
