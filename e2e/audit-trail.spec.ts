import { APP_ORIGIN, DEMO, createTenantAsVendor, expect, expectNotFoundPage, test, uniqueSuffix } from "./fixtures";

test.describe.configure({ timeout: 120_000 });

// The audit trail's filters, detail view and paging as a tenant's auditor uses them.

test("an auditor filters the trail, shares the link, and opens an event's detail with its chain position", async ({ pageAs }) => {
  const auditor = await pageAs(DEMO.acmeAuditor);
  await auditor.goto("/t/acme/audit");
  await expect(auditor.getByRole("heading", { name: "Audit trail" })).toBeVisible();

  await auditor.getByLabel("Action").selectOption({ label: "Signed in" });
  await auditor.getByLabel("Actor").fill(DEMO.acmeAuditor.email);
  await auditor.getByRole("button", { name: "Apply filters" }).click();
  await expect(auditor).toHaveURL(/action=auth\.sign_in/);
  await expect(auditor).toHaveURL(new RegExp(`actor=${encodeURIComponent(DEMO.acmeAuditor.email)}`));
  const rows = auditor.getByTestId("audit-row");
  await expect(rows.first()).toBeVisible();
  for (const row of await rows.all()) {
    await expect(row).toContainText("auth.sign_in");
    await expect(row).toContainText(DEMO.acmeAuditor.email);
  }

  // The link is the view: opened afresh, it shows the same filter, filled in.
  const shared = auditor.url();
  await auditor.goto(shared);
  await expect(auditor.getByLabel("Action")).toHaveValue("auth.sign_in");
  await expect(auditor.getByLabel("Actor")).toHaveValue(DEMO.acmeAuditor.email);

  await rows.first().getByRole("link").click();
  const detail = auditor.getByTestId("audit-event-detail");
  await expect(detail.getByRole("heading", { name: /^Event #\d+: Signed in$/ })).toBeVisible();
  await expect(detail.getByTestId("audit-event-hash")).toHaveText(/^[0-9a-f]{64}$/);
  await expect(detail.getByText("Previous hash")).toBeVisible();
  await expect(auditor).toHaveURL(/event=\d+/);
  await expect(auditor).toHaveURL(/action=auth\.sign_in/);

  await auditor.getByRole("link", { name: "Clear filters" }).click();
  await expect(auditor).toHaveURL(`${APP_ORIGIN}/t/acme/audit`);
});

test("malformed filters and damaged links get a clear message, never an error page", async ({ pageAs }) => {
  const auditor = await pageAs(DEMO.acmeAuditor);
  let response = await auditor.goto("/t/acme/audit?from=yesterday&outcome=maybe&limit=99999999");
  expect(response?.status()).toBe(200);
  await expect(auditor.getByText("Give a date and time with its time zone, e.g. 2026-11-29T14:30:00Z.")).toBeVisible();
  await expect(auditor.getByText("Choose success, denied or failure.")).toBeVisible();
  await expect(auditor.getByText("Some filters are not valid")).toBeVisible();
  await expect(auditor.getByTestId("audit-row")).toHaveCount(0);

  response = await auditor.goto("/t/acme/audit?from=2026-11-29T12:00:00Z&to=2026-11-28T12:00:00Z");
  expect(response?.status()).toBe(200);
  await expect(auditor.getByText("The end of the time range must be after its start.")).toBeVisible();

  response = await auditor.goto("/t/acme/audit?before=1_2_3");
  expect(response?.status()).toBe(200);
  await expect(auditor.getByText("This page link is damaged. Start again from the newest events.")).toBeVisible();

  response = await auditor.goto("/t/acme/audit?event=999999999");
  expect(response?.status()).toBe(200);
  await expect(auditor.getByText("Event #999999999 is not in this trail")).toBeVisible();
});

test("another tenant's trail, filtered or opened at an event, is not found", async ({ pageAs }) => {
  const suffix = uniqueSuffix();
  const other = { name: `Hooli ${suffix}`, slug: `hooli-${suffix}`, adminEmail: `ciso-${suffix}@hooli.example` };
  await createTenantAsVendor(await pageAs(DEMO.vendor), other);
  const admin = await pageAs(DEMO.acmeAdmin);
  for (const path of [`/t/${other.slug}/audit?outcome=success&event=1`, `/t/${other.slug}/audit?seq=1`, `/t/${other.slug}/audit?q=${other.adminEmail}`]) {
    const response = await admin.goto(path);
    expect(response?.status(), path).toBe(404);
    await expectNotFoundPage(admin);
    await expect(admin.getByTestId("audit-row")).toHaveCount(0);
    await expect(admin.getByText(other.adminEmail)).toHaveCount(0);
  }
});
