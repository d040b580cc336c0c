import {
  APP_ORIGIN,
  DEMO,
  createTenantAsVendor,
  expect,
  expectNotFoundPage,
  test,
  tenantRow,
  uniqueSuffix,
} from "./fixtures";

// Several sign-ins through the IdP per test: room for a busy 2-core machine.
test.describe.configure({ timeout: 120_000 });

// Where each role lands, and what a role cannot open.

test("the home page sends each person to their own console", async ({ pageAs }) => {
  // Their first sign-ins in this run (reused by later tests) go through the IdP side by side.
  const [vendor, admin, auditor] = await Promise.all([pageAs(DEMO.vendor), pageAs(DEMO.acmeAdmin), pageAs(DEMO.acmeAuditor)]);
  await vendor.goto("/");
  await expect(vendor).toHaveURL(`${APP_ORIGIN}/vendor`);
  await expect(vendor.getByRole("heading", { name: "All tenants" })).toBeVisible();
  await expect(tenantRow(vendor, "acme")).toBeVisible();

  await admin.goto("/");
  await expect(admin).toHaveURL(`${APP_ORIGIN}/t/acme`);
  await expect(admin.getByRole("heading", { level: 1 })).toHaveText("Acme Corp");
  await expect(admin.getByText("Acme Corp · Tenant admin")).toBeVisible();

  await auditor.goto("/");
  await expect(auditor).toHaveURL(`${APP_ORIGIN}/t/acme`);
  await expect(auditor.getByRole("heading", { level: 1 })).toHaveText("Acme Corp");
  await expect(auditor.getByText("Acme Corp · Tenant auditor")).toBeVisible();
});

test("a tenant admin opening the vendor console is sent to their own tenant, without the tenant list", async ({ pageAs }) => {
  const admin = await pageAs(DEMO.acmeAdmin);
  const response = await admin.goto("/vendor");
  await expect(admin).toHaveURL(`${APP_ORIGIN}/t/acme`);
  await expect(admin.getByRole("heading", { level: 1 })).toHaveText("Acme Corp");
  await expect(admin.getByRole("heading", { name: "All tenants" })).toHaveCount(0);
  await expect(admin.getByTestId("tenant-row")).toHaveCount(0);
  await expect(admin.getByRole("button", { name: "Create tenant and invite admin" })).toHaveCount(0);
  // What the browser received from the redirect chain holds no tenant list either.
  expect(await response?.text()).not.toContain("All tenants");

  // The vendor audit trail is closed to them as well.
  await admin.goto("/vendor/audit");
  await expect(admin).toHaveURL(`${APP_ORIGIN}/t/acme`);
  await expect(admin.getByRole("heading", { name: "Vendor audit trail" })).toHaveCount(0);
});

test("a tenant member opening another tenant's console gets a 404, not its data", async ({ pageAs }) => {
  const suffix = uniqueSuffix();
  const other = { name: `Stark ${suffix}`, slug: `stark-${suffix}`, adminEmail: `ciso-${suffix}@stark.example` };
  const vendor = await pageAs(DEMO.vendor);
  await createTenantAsVendor(vendor, other);

  const visits = [
    { user: DEMO.acmeAdmin, paths: [`/t/${other.slug}`, `/t/${other.slug}/members`, `/t/${other.slug}/audit`] },
    { user: DEMO.acmeAuditor, paths: [`/t/${other.slug}/members`] },
  ];
  for (const { user, paths } of visits) {
    const page = await pageAs(user);
    for (const path of paths) {
      const response = await page.goto(path);
      expect(response?.status(), `${user.email} opening ${path}`).toBe(404);
      await expectNotFoundPage(page);
      await expect(page.getByText(other.name)).toHaveCount(0);
      await expect(page.getByText(other.adminEmail)).toHaveCount(0);
      await expect(page.getByTestId("member-row")).toHaveCount(0);
      await expect(page.getByTestId("audit-row")).toHaveCount(0);
    }
  }

  // The same answer as for a tenant that does not exist: no hint that it does.
  const admin = await pageAs(DEMO.acmeAdmin);
  const missing = await admin.goto(`/t/no-such-tenant-${suffix}`);
  expect(missing?.status()).toBe(404);
  await expectNotFoundPage(admin);
});
