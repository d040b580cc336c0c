import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { SinkEvent } from "../lib/sinks/types";
import { SIGNATURE_HEADER, verifyWebhookSignature } from "../lib/sinks/transports/webhook-signature";
import { type HttpsReceiver, startHttpsReceiver } from "../tests/helpers/sink-receivers";
import { makeTestPki } from "../tests/helpers/test-pki";
import { addMember, createTenantAsVendor, DEMO, e2eUser, expect, expectNotFoundPage, test, uniqueSuffix } from "./fixtures";

// Log sinks as a tenant admin meets them: a webhook sink pointed at a real HTTPS receiver this
// test starts (its certificate from a test CA, pasted into the form), the signing secret shown
// once, deliveries signed with it, the status on the page, "Send test event" answered inline.
// An auditor sees the sink but nothing to change it with; another tenant's admin gets 404s.

test.describe.configure({ timeout: 180_000 });

let receiver: HttpsReceiver;
let caPem: string;
let pkiDir: string;

test.beforeAll(async () => {
  pkiDir = fs.mkdtempSync(path.join(os.tmpdir(), "custody-e2e-sinks-"));
  const pki = makeTestPki(pkiDir, "webhook");
  caPem = pki.caPem;
  receiver = await startHttpsReceiver(pki, () => ({ status: 200 }));
});

test.afterAll(async () => {
  await receiver?.stop();
  fs.rmSync(pkiDir, { recursive: true, force: true });
});

/** Every event the receiver got, with whether its request's signature verifies under `secret`. */
function received(secret: string): Array<{ event: SinkEvent; signed: boolean }> {
  return receiver.requests.flatMap((r) => {
    const header = r.headers[SIGNATURE_HEADER.toLowerCase()];
    const signed = verifyWebhookSignature(secret, typeof header === "string" ? header : undefined, r.body);
    const events = (JSON.parse(r.body.toString("utf8")) as { events: SinkEvent[] }).events;
    return events.map((event) => ({ event, signed }));
  });
}

test("a tenant admin adds a webhook sink: secret shown once, signed deliveries, healthy status, inline test result; auditors read only; other tenants get 404", async ({
  pageAs,
}) => {
  const adminUser = e2eUser("sinks-admin@soylent.example");
  const auditorUser = e2eUser("sinks-auditor@soylent.example");
  const otherUser = e2eUser("sinks-other@massive.example");
  const suffix = uniqueSuffix();
  const slug = `soylent-${suffix}`;
  const otherSlug = `massive-${suffix}`;
  const vendor = await pageAs(DEMO.vendor);
  await createTenantAsVendor(vendor, { name: `Soylent ${suffix}`, slug, adminEmail: adminUser.email });
  await createTenantAsVendor(vendor, { name: `Massive ${suffix}`, slug: otherSlug, adminEmail: otherUser.email });

  const admin = await pageAs(adminUser);
  await admin.goto(`/t/${slug}`);
  await admin.getByRole("link", { name: "Log sinks" }).click();
  await expect(admin).toHaveURL(`/t/${slug}/sinks`);
  await expect(admin.getByText("No log sinks yet")).toBeVisible();
  await expect(admin.getByText(/receives the events from its creation on/)).toBeVisible();

  // A refused submission: the error next to the field, the entered values kept.
  const url = `https://localhost:${receiver.port}/custody?sig=1`;
  const name = "SIEM webhook";
  await admin.getByLabel("Name", { exact: true }).fill(name);
  await admin.getByLabel("HTTPS URL").fill("ftp://siem.example.com/x");
  await admin.getByLabel("CA certificate (optional)").fill(caPem);
  await admin.getByRole("button", { name: "Add log sink" }).click();
  await expect(admin.getByText("Use an https:// URL: events leave Custody encrypted.")).toBeVisible();
  await expect(admin.getByLabel("Name", { exact: true })).toHaveValue(name);
  expect((await admin.getByLabel("CA certificate (optional)").inputValue()).trim()).toBe(caPem.trim());
  await expect(admin.getByTestId("sink-row")).toHaveCount(0);

  // Corrected: the sink is added and its secret shown, once.
  await admin.getByLabel("HTTPS URL").fill(url);
  await admin.getByRole("button", { name: "Add log sink" }).click();
  const secretValue = admin.getByTestId("sink-secret-value");
  await expect(secretValue).toBeVisible();
  const secret = (await secretValue.textContent())!.trim();
  expect(secret.length).toBeGreaterThanOrEqual(32);
  await expect(admin.getByTestId("sink-secret")).toContainText("Custody-Signature");
  await expect(admin.getByRole("button", { name: "Copy secret" })).toBeVisible();
  const sinkHref = await admin.getByRole("link", { name: "Open it" }).getAttribute("href");
  expect(sinkHref).toMatch(new RegExp(`^/t/${slug}/sinks/[0-9a-f-]{36}$`));
  const sinkId = sinkHref!.split("/").at(-1)!;

  const row = admin.getByTestId("sink-row").filter({ hasText: name });
  await expect(row).toHaveCount(1);
  // The target shows the origin only: the URL's path and query stay out of the page.
  await expect(row.getByTestId("sink-target")).toHaveText(`https://localhost:${receiver.port}`);
  await admin.reload();
  await expect(admin.getByTestId("sink-secret-value")).toHaveCount(0);
  await expect(admin.locator("body")).not.toContainText(secret);

  // The sink's own creation arrives, signed with the shown secret (and not with another).
  await expect
    .poll(() => received(secret).filter((r) => r.event.action === "sink.created" && r.event.targetId === sinkId).length, { timeout: 30_000 })
    .toBe(1);
  const created = received(secret).find((r) => r.event.action === "sink.created")!;
  expect(created.signed).toBe(true);
  expect(created.event.id).toMatch(/^[0-9a-f-]{36}:\d+$/);
  expect(received("not-the-secret").every((r) => !r.signed)).toBe(true);
  expect(receiver.requests.every((r) => r.path === "/custody?sig=1")).toBe(true);

  // The page shows it healthy, with a last success.
  await expect(async () => {
    await admin.reload();
    await expect(row.getByTestId("sink-health")).toHaveText("healthy", { timeout: 1_000 });
    await expect(row.getByTestId("sink-last-success")).not.toHaveText("never", { timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  await expect(row.getByTestId("sink-last-error")).toHaveText("none");
  await expect(row.getByTestId("sink-health-reason")).toHaveText("Delivering.");

  // "Send test event": the result inline, and the receiver has it, signed.
  await row.getByRole("button", { name: `Send test event to ${name}` }).click();
  const result = row.getByTestId("sink-test-result");
  await expect(result).toContainText("Test event delivered");
  await expect(result).toContainText("The receiver accepted the test event.");
  await expect(result).toHaveAttribute("data-ok", "true");
  const testEvents = received(secret).filter((r) => r.event.id.startsWith("test:"));
  expect(testEvents).toHaveLength(1);
  expect(testEvents[0]!.signed).toBe(true);
  expect(testEvents[0]!.event.targetId).toBe(sinkId);
  // The test itself is in the trail, and so reaches the sink in a later batch.
  await expect
    .poll(() => received(secret).filter((r) => r.event.action === "sink.tested" && !r.event.id.startsWith("test:")).length, { timeout: 30_000 })
    .toBe(1);

  // Editing: a filter and a rotated secret, shown once; the next test is signed with the new one.
  await admin.goto(`/t/${slug}/sinks/${sinkId}`);
  // The URL's query string is sealed: the form shows the URL without it, and saving keeps it.
  await expect(admin.getByLabel("HTTPS URL")).toHaveValue(url.replace("?sig=1", ""));
  await expect(admin.locator("body")).not.toContainText("sig=1");
  await admin.getByText("Only some actions").click();
  await admin.getByLabel(/^Log sink tested/).check();
  await admin.getByLabel(/^Rotate the signing secret/).check();
  await admin.getByRole("button", { name: "Save changes" }).click();
  await expect(admin.getByTestId("sink-form-result")).toContainText("new signing secret");
  const rotated = (await admin.getByTestId("sink-secret-value").textContent())!.trim();
  expect(rotated).not.toBe(secret);
  await expect(admin.getByTestId("sink-row")).toContainText("Log sink tested");
  await admin.getByRole("button", { name: `Send test event to ${name}` }).click();
  await expect(admin.getByTestId("sink-test-result")).toContainText("Test event delivered");
  const secondTest = received(rotated).filter((r) => r.event.id.startsWith("test:")).at(-1)!;
  expect(secondTest.signed).toBe(true);
  // Sent, after the edit, with the sealed query string.
  expect(receiver.requests.at(-1)!.path).toBe("/custody?sig=1");
  expect(received(secret).filter((r) => r.event.id.startsWith("test:")).at(-1)!.signed).toBe(false);

  // An auditor sees the sink and its state, and nothing that would be refused.
  await addMember(admin, slug, auditorUser.email, "auditor");
  const auditor = await pageAs(auditorUser);
  await auditor.goto(`/t/${slug}/sinks`);
  const auditorRow = auditor.getByTestId("sink-row").filter({ hasText: name });
  await expect(auditorRow).toHaveCount(1);
  await expect(auditorRow.getByTestId("sink-health")).toHaveText("healthy");
  await expect(auditor.getByText("You are an auditor: you can see the sinks and their state but not change them.")).toBeVisible();
  for (const label of [/^Send test event/, /^Retry failed/, /^Disable/, /^Enable/, /^Delete/, /^Add log sink/]) {
    await expect(auditor.getByRole("button", { name: label })).toHaveCount(0);
  }
  await expect(auditor.getByLabel("HTTPS URL")).toHaveCount(0);
  await auditor.goto(`/t/${slug}/sinks/${sinkId}`);
  await expect(auditor.getByRole("heading", { name })).toBeVisible();
  await expect(auditor.getByRole("button", { name: "Save changes" })).toHaveCount(0);
  await expect(auditor.getByRole("button", { name: /^Send test event/ })).toHaveCount(0);

  // Another tenant's admin: the sinks page and the sink are not found, under either tenant.
  const other = await pageAs(otherUser);
  await other.goto(`/t/${otherSlug}/sinks`);
  await expect(other.getByText("No log sinks yet")).toBeVisible();
  for (const path of [`/t/${slug}/sinks`, `/t/${slug}/sinks/${sinkId}`, `/t/${otherSlug}/sinks/${sinkId}`, `/t/${otherSlug}/sinks/not-a-uuid`]) {
    const response = await other.goto(path);
    expect(response?.status(), path).toBe(404);
    await expectNotFoundPage(other);
  }
  await expect(other.locator("body")).not.toContainText(name);

  // The admin disables the sink, then deletes it after a confirmation naming it.
  await admin.goto(`/t/${slug}/sinks`);
  await row.getByRole("button", { name: `Disable ${name}` }).click();
  await expect(row.getByTestId("sink-health")).toHaveText("disabled");
  await row.getByRole("button", { name: `Delete ${name}` }).click();
  const dialog = admin.getByRole("dialog");
  await expect(dialog.getByRole("heading", { name: `Delete “${name}”?` })).toBeVisible();
  await dialog.getByRole("button", { name: "Delete log sink" }).click();
  await expect(admin.getByTestId("sink-row")).toHaveCount(0);
  await expect(admin.getByText("No log sinks yet")).toBeVisible();
});
