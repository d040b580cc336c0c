import {
  APP_ORIGIN,
  DEMO,
  addMember,
  auditRows,
  createTenantAsVendor,
  e2eUser,
  expect,
  expectNotFoundPage,
  memberRow,
  signIn,
  submitIdpLogin,
  tenantCell,
  tenantRow,
  test,
  uniqueSuffix,
} from "./fixtures";

// Several sign-ins through the IdP per test: room for a busy 2-core machine.
test.describe.configure({ timeout: 120_000 });

// A vendor admin onboards a customer; the customer's first admin signs in and takes over.

const firstAdmin = e2eUser("first-admin@globex.example");
const newAuditor = e2eUser("new-auditor@globex.example");

test("a vendor admin creates a tenant, and its first admin signs in to it and adds an auditor", async ({ newPage, pageAs }) => {
  const suffix = uniqueSuffix();
  const name = `Globex ${suffix}`;
  const slug = `globex-${suffix}`;

  const vendor = await pageAs(DEMO.vendor);
  await vendor.goto("/vendor");
  await expect(vendor.getByRole("heading", { name: "Create a tenant" })).toBeVisible();
  const rows = vendor.getByTestId("tenant-row");
  await expect(tenantRow(vendor, "acme")).toBeVisible();
  // first-admin@globex.example is used by this test only: any tenant listing them is one it made.
  const listingFirstAdmin = rows.filter({ hasText: firstAdmin.email });
  await expect(listingFirstAdmin).toHaveCount(0);

  const nameField = vendor.getByLabel("Customer name");
  const slugField = vendor.getByLabel("URL name");
  const emailField = vendor.getByLabel("First admin's email");
  const create = vendor.getByRole("button", { name: "Create tenant and invite admin" });

  // Typing the customer name fills in the URL name. (Typed again if the first keystrokes beat
  // hydration; a form that never fills it in still fails.)
  const typeName = () =>
    expect(async () => {
      await nameField.fill(name);
      await expect(slugField).toHaveValue(slug, { timeout: 1_000 });
    }, "the URL name follows the customer name").toPass({ timeout: 10_000 });

  // An invalid email: the field says what is wrong, the typed values stay, nothing is created.
  await typeName();
  await emailField.fill("first-admin-at-globex");
  await create.click();
  await expect(vendor.getByText("Enter a valid email address, like name@company.com.")).toBeVisible();
  await expect(emailField).toHaveAttribute("aria-invalid", "true");
  await expect(nameField).toHaveValue(name);
  await expect(slugField).toHaveValue(slug);
  await expect(vendor.getByText(/was created\./)).toHaveCount(0);

  // A URL name that is taken: a clear message, and again nothing is created.
  await slugField.fill("acme");
  await emailField.fill(firstAdmin.email);
  await create.click();
  await expect(vendor.getByText("This URL name is taken.")).toBeVisible();
  await expect(vendor.getByText('A tenant with the URL name "acme" already exists. Choose another.')).toBeVisible();
  await expect(vendor.getByText(/was created\./)).toHaveCount(0);

  await vendor.reload();
  await expect(tenantRow(vendor, "acme")).toBeVisible();
  await expect(rows.filter({ hasText: name })).toHaveCount(0);
  await expect(tenantRow(vendor, slug)).toHaveCount(0);
  await expect(listingFirstAdmin).toHaveCount(0);

  // Good input: confirmed, and the new tenant is in the list with its invited admin.
  await typeName();
  await emailField.fill(firstAdmin.email);
  await create.click();
  await expect(
    vendor.getByText(`${name} was created. ${firstAdmin.email} is its admin and can sign in with SSO within 7 days (in this demo, with the demo password \`npm start\` printed).`),
  ).toBeVisible();
  await expect(nameField, "a fresh form after success").toHaveValue("");
  const row = tenantRow(vendor, slug);
  await expect(row).toBeVisible();
  await expect(row).toContainText(name);
  await expect(row).toContainText(firstAdmin.email);
  await expect(listingFirstAdmin).toHaveCount(1);
  await vendor.reload();
  await expect(tenantRow(vendor, slug)).toContainText(firstAdmin.email);

  // The first admin signs in, in a browser of their own, and lands on their tenant's console.
  const admin = await newPage();
  await admin.goto("/");
  await signIn(admin, firstAdmin.email, firstAdmin.password);
  await expect(admin).toHaveURL(`${APP_ORIGIN}/t/${slug}`);
  await expect(admin.getByRole("heading", { level: 1 })).toHaveText(name);
  await expect(admin.getByText(`${name} · Tenant admin`)).toBeVisible();

  // Only that tenant: no tenant switcher, Acme is a 404, and the vendor console is closed.
  const nav = admin.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Members" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Switch tenant" })).toHaveCount(0);
  const acme = await admin.goto("/t/acme");
  expect(acme?.status()).toBe(404);
  await expectNotFoundPage(admin);
  await expect(admin.getByText("Acme Corp")).toHaveCount(0);
  await admin.goto("/vendor");
  await expect(admin).toHaveURL(`${APP_ORIGIN}/t/${slug}`);
  await expect(admin.getByTestId("tenant-row")).toHaveCount(0);

  // The audit trail shows how the tenant came to be.
  await admin.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit trail" }).click();
  await expect(admin).toHaveURL(`${APP_ORIGIN}/t/${slug}/audit`);
  await expect(auditRows(admin, "tenant.created", DEMO.vendor.email)).toHaveCount(1);
  await expect(auditRows(admin, "tenant.created")).toContainText(`slug: ${slug}`);
  await expect(auditRows(admin, "member.invited", firstAdmin.email, "role: admin")).toHaveCount(1);
  await expect(auditRows(admin, "auth.sign_in", firstAdmin.email)).toHaveCount(1);

  // They add an auditor.
  await admin.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Members" }).click();
  await expect(memberRow(admin, firstAdmin.email).getByTestId("member-role")).toHaveText("admin");
  await addMember(admin, slug, newAuditor.email, "auditor");
  await expect(admin.getByTestId("member-row")).toHaveCount(2);
  await admin.reload();
  await expect(memberRow(admin, newAuditor.email).getByTestId("member-role")).toHaveText("auditor");

  // Inviting the same person twice is refused with a clear message.
  await admin.getByLabel("Email", { exact: true }).fill(newAuditor.email);
  await admin.getByRole("button", { name: "Add member" }).click();
  await expect(admin.getByText("Already invited.")).toBeVisible();
  await expect(admin.getByTestId("member-row")).toHaveCount(2);

  await admin.goto(`/t/${slug}/audit`);
  await expect(auditRows(admin, "member.invited", newAuditor.email, "role: auditor")).toHaveCount(1);

  // And the vendor's list counts both members.
  await vendor.reload();
  await expect(tenantRow(vendor, slug)).toBeVisible();
  await expect(await tenantCell(vendor, slug, "Members")).toHaveText("2");
});

test("in the demo, a tenant's invited admin whom the identity provider has never seen signs in with the demo password", async ({ newPage, pageAs }) => {
  const suffix = uniqueSuffix();
  const slug = `initech-${suffix}`;
  const invited = `it-lead-${suffix}@initech.example`;
  const stranger = `stranger-${suffix}@initech.example`;
  const vendor = await pageAs(DEMO.vendor);
  await createTenantAsVendor(vendor, { name: `Initech ${suffix}`, slug, adminEmail: invited });

  // Someone Custody never invited gets nowhere, demo password or not.
  const outsider = await newPage();
  await outsider.goto("/signin");
  await outsider.getByRole("button", { name: /^Continue with / }).click();
  await submitIdpLogin(outsider, stranger, DEMO.vendor.password);
  await expect(outsider.getByRole("alert")).toHaveText("Wrong email or password.");

  // The invited admin signs in with the demo password and lands on their tenant.
  const admin = await newPage();
  await admin.goto("/");
  await signIn(admin, invited, DEMO.vendor.password);
  await expect(admin).toHaveURL(`${APP_ORIGIN}/t/${slug}`);
  await expect(admin.getByRole("heading", { level: 1 })).toHaveText(`Initech ${suffix}`);
});
