import fs from "node:fs";
import { DEMO, auditRows, createTenantAsVendor, expect, expectNotFoundPage, test, uniqueSuffix } from "./fixtures";

// The integrity page: Verify integrity streams progress and ends with the count and head hash;
// the public key and checkpoints download and are what they claim; another tenant's page and
// routes are a 404.

test.describe.configure({ timeout: 120_000 });

test("a tenant admin verifies the trail, signs a checkpoint and downloads it with the public key", async ({ pageAs }) => {
  const admin = await pageAs(DEMO.acmeAdmin);
  await admin.goto("/t/acme/audit/integrity");
  await expect(admin.getByRole("heading", { name: "Verify integrity" })).toBeVisible();

  await admin.getByRole("button", { name: "Verify integrity" }).click();
  const result = admin.getByTestId("integrity-result");
  await expect(result).toHaveAttribute("data-intact", "true", { timeout: 60_000 });
  await expect(result).toContainText(/Intact: [\d,]+ events verified/);
  await expect(result).toContainText(/Head hash \(event #\d+\): [0-9a-f]{64}/);
  const events = Number((await result.textContent())!.match(/Intact: ([\d,]+) events/)![1]!.replace(/,/g, ""));
  const headSeq = Number((await result.textContent())!.match(/event #(\d+)\)/)![1]);
  expect(events).toBeGreaterThan(0);
  expect(events).toBe(headSeq); // the demo trail was never pruned: every event from #1 is counted

  const [keyDownload] = await Promise.all([admin.waitForEvent("download"), admin.getByRole("link", { name: "Download public key" }).click()]);
  expect(keyDownload.suggestedFilename()).toBe("custody-audit-public-key.pem");
  expect(fs.readFileSync((await keyDownload.path())!, "utf8")).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/);

  await admin.getByRole("button", { name: "Sign checkpoint now" }).click();
  await expect(admin.getByText(/Signed a checkpoint of event #\d+\./)).toBeVisible();
  const signedSeq = (await admin.getByText(/Signed a checkpoint of event #\d+\./).textContent())!.match(/#(\d+)/)![1]!;
  const row = admin.getByTestId("checkpoint-row").filter({ hasText: `#${signedSeq}` });
  await expect(row).toBeVisible();
  const [checkpointDownload] = await Promise.all([admin.waitForEvent("download"), row.getByRole("link", { name: "Download JSON" }).click()]);
  const doc = JSON.parse(fs.readFileSync((await checkpointDownload.path())!, "utf8")) as Record<string, string>;
  expect(doc.format).toBe("custody-audit-checkpoint/v1");
  expect(doc.seq).toBe(signedSeq);
  expect(doc.statement).toBe(
    `custody-audit-checkpoint/v1\nchain: ${doc.chain}\nseq: ${doc.seq}\nhead: ${doc.headHash}\nsigned-at: ${doc.signedAt}\nkey: ${doc.keyId}\n`,
  );
  expect(Buffer.from(doc.signature!, "base64")).toHaveLength(64);

  // Both acts are in the trail.
  await admin.goto("/t/acme/audit");
  await expect(auditRows(admin, "Trail integrity verified", DEMO.acmeAdmin.email).first()).toBeVisible();
  await expect(auditRows(admin, "Trail checkpoint signed", DEMO.acmeAdmin.email).first()).toBeVisible();
});

test("a tenant auditor can verify too, and sees progress counts", async ({ pageAs }) => {
  const auditor = await pageAs(DEMO.acmeAuditor);
  await auditor.goto("/t/acme/audit/integrity");
  await auditor.getByRole("button", { name: "Verify integrity" }).click();
  await expect(auditor.getByTestId("integrity-result")).toHaveAttribute("data-intact", "true", { timeout: 60_000 });
  await expect(auditor.getByTestId("integrity-result")).toContainText(/Intact: [\d,]+ events verified/);
  await expect(auditor.getByRole("link", { name: "Download public key" })).toBeVisible();
});

test("another tenant's integrity page and routes are a 404", async ({ pageAs }) => {
  const suffix = uniqueSuffix();
  const other = { name: `Wayne ${suffix}`, slug: `wayne-${suffix}`, adminEmail: `ciso-${suffix}@wayne.example` };
  const vendor = await pageAs(DEMO.vendor);
  await createTenantAsVendor(vendor, other);

  for (const user of [DEMO.acmeAdmin, DEMO.acmeAuditor, DEMO.vendor]) {
    const page = await pageAs(user);
    const response = await page.goto(`/t/${other.slug}/audit/integrity`);
    expect(response?.status()).toBe(404);
    await expectNotFoundPage(page);
    // The routes, asked directly with the session's cookies.
    const verify = await page.request.post(`/t/${other.slug}/audit/integrity/verify`, { headers: { origin: new URL(page.url()).origin } });
    expect(verify.status()).toBe(404);
    expect(await verify.text()).not.toContain("progress");
    expect((await page.request.get(`/t/${other.slug}/audit/integrity/public-key`)).status()).toBe(404);
    for (const id of ["1", "2", "999999999999"]) {
      expect((await page.request.get(`/t/${other.slug}/audit/integrity/checkpoints/${id}`)).status()).toBe(404);
    }
  }

  // Acme's own checkpoint ids, asked for under the other tenant, are not found either; and a
  // cross-site POST is refused even for a member.
  const admin = await pageAs(DEMO.acmeAdmin);
  await admin.goto("/t/acme/audit/integrity");
  const own = await admin.getByTestId("checkpoint-row").getByRole("link", { name: "Download JSON" }).first().getAttribute("href");
  if (own) expect((await admin.request.get(own.replace("/t/acme/", `/t/${other.slug}/`))).status()).toBe(404);
  const crossSite = await admin.request.post("/t/acme/audit/integrity/verify", { headers: { origin: "https://evil.example" } });
  expect(crossSite.status()).toBe(403);
});
