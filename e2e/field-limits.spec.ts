import { TEXT_LIMITS, limitHint, tooLongMessage } from "../lib/validation/limits";
import { DEMO, expect, test, uniqueSuffix } from "./fixtures";

// Text fields follow one rule (lib/validation/limits.ts): the limit is in the field's help
// text, the browser keeps everything typed or pasted, and longer input gets an error next to
// the field while nothing is created.

test("an over-long tenant or sink name gets the error the field's help announces, and is never cut short", async ({ pageAs }) => {
  const vendor = await pageAs(DEMO.vendor);
  await vendor.goto("/vendor");
  const name = vendor.getByLabel("Customer name");
  await expect(vendor.getByText(limitHint(TEXT_LIMITS.name), { exact: true })).toBeVisible();
  const tooLong = `Globex ${"x".repeat(TEXT_LIMITS.name)}`;
  await name.fill(tooLong);
  await expect(name).toHaveValue(tooLong);
  const slug = `globex-${uniqueSuffix()}`;
  await vendor.getByLabel("URL name").fill(slug);
  await vendor.getByLabel("First admin's email").fill("admin@globex.example");
  await vendor.getByRole("button", { name: "Create tenant and invite admin" }).click();
  await expect(vendor.getByRole("alert").filter({ hasText: tooLongMessage(TEXT_LIMITS.name) })).toBeVisible();
  await expect(name).toHaveValue(tooLong);
  await expect(vendor.locator(`[data-testid="tenant-row"][data-slug="${slug}"]`)).toHaveCount(0);

  const admin = await pageAs(DEMO.acmeAdmin);
  await admin.goto("/t/acme/sinks");
  const sinkName = admin.getByLabel("Name", { exact: true });
  await expect(admin.getByText(limitHint(TEXT_LIMITS.name, "What it feeds, e.g. Splunk production."), { exact: true })).toBeVisible();
  const longSink = "s".repeat(500);
  await sinkName.fill(longSink);
  await expect(sinkName).toHaveValue(longSink);
  await admin.getByLabel("HTTPS URL").fill("https://localhost:9/limits");
  const rows = await admin.getByTestId("sink-row").count();
  await admin.getByRole("button", { name: "Add log sink" }).click();
  await expect(admin.getByRole("alert").filter({ hasText: tooLongMessage(TEXT_LIMITS.name) })).toBeVisible();
  await expect(sinkName).toHaveValue(longSink);
  await expect(admin.getByTestId("sink-row")).toHaveCount(rows);
  // The refused form does not widen the page.
  expect(await admin.evaluate(() => document.scrollingElement!.scrollWidth <= document.scrollingElement!.clientWidth)).toBe(true);
});
