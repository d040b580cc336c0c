import fs from "node:fs";
import { parse } from "csv-parse/sync";
import { DEMO, auditRows, createTenantAsVendor, expect, test, uniqueSuffix } from "./fixtures";

// Exporting the audit trail from the console: the file holds exactly the filtered view, the
// export shows in the trail, and another tenant's export URL is a 404 like a missing tenant's.

test.describe.configure({ timeout: 120_000 });

test("a tenant auditor exports a filtered view as CSV and JSON Lines, and the export is in the trail", async ({ pageAs }) => {
  const auditor = await pageAs(DEMO.acmeAuditor);
  const filter = new URLSearchParams({ action: "auth.sign_in", actor: DEMO.acmeAuditor.email, outcome: "success" });
  await auditor.goto(`/t/acme/audit?${filter}`);
  const shown = await auditor.getByTestId("audit-row").count();
  expect(shown).toBeGreaterThan(0);
  await expect(auditor.getByRole("link", { name: "Older events →" })).toHaveCount(0); // the page shows the whole view

  const exporter = auditor.getByTestId("audit-export");
  const [csvDownload] = await Promise.all([auditor.waitForEvent("download"), exporter.getByRole("button", { name: "CSV" }).click()]);
  expect(csvDownload.suggestedFilename()).toMatch(/^custody-audit-acme-\d{8}T\d{6}Z\.csv$/);
  const rows = parse(fs.readFileSync((await csvDownload.path())!, "utf8"), { columns: true }) as Array<Record<string, string>>;
  expect(rows).toHaveLength(shown);
  for (const row of rows) {
    expect(row).toMatchObject({ action: "auth.sign_in", actorLabel: DEMO.acmeAuditor.email, outcome: "success" });
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
  }
  await expect(exporter).toContainText(new RegExp(`Saved custody-audit-acme-\\S+\\.csv: ${rows.length} events`));

  const [jsonlDownload] = await Promise.all([auditor.waitForEvent("download"), exporter.getByRole("button", { name: "JSON Lines" }).click()]);
  expect(jsonlDownload.suggestedFilename()).toMatch(/^custody-audit-acme-\d{8}T\d{6}Z\.jsonl$/);
  const lines = fs.readFileSync((await jsonlDownload.path())!, "utf8").trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(lines.map((l) => l.seq)).toEqual(rows.map((r) => r.seq));
  for (const line of lines) expect(line).toMatchObject({ action: "auth.sign_in", actorLabel: DEMO.acmeAuditor.email, outcome: "success" });

  // Both exports are events in the tenant's trail, by the auditor.
  await auditor.goto("/t/acme/audit?action=audit.exported");
  await expect(auditRows(auditor, "Trail exported", DEMO.acmeAuditor.email)).not.toHaveCount(0);
  expect(await auditRows(auditor, "Trail exported", DEMO.acmeAuditor.email).count()).toBeGreaterThanOrEqual(2);
});

test("an invalid filter is refused with its message and nothing is downloaded", async ({ pageAs }) => {
  const auditor = await pageAs(DEMO.acmeAuditor);
  const response = await auditor.request.get("/t/acme/audit/export?format=csv&from=2026-11-29T10:00:00Z&to=2026-11-28T10:00:00Z");
  expect(response.status()).toBe(400);
  expect(response.headers()["content-disposition"]).toBeUndefined();
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe("bad_request");
  expect(body.error.message).toContain("The end of the time range must be after its start.");
});

test("another tenant's export URL is a 404, like a tenant that does not exist; signed out it is a 401", async ({ pageAs, newPage }) => {
  const suffix = uniqueSuffix();
  const other = { name: `Tyrell ${suffix}`, slug: `tyrell-${suffix}`, adminEmail: `ciso-${suffix}@tyrell.example` };
  await createTenantAsVendor(await pageAs(DEMO.vendor), other);

  const answers: string[] = [];
  for (const user of [DEMO.acmeAuditor, DEMO.acmeAdmin, DEMO.vendor]) {
    const page = await pageAs(user);
    for (const slug of [other.slug, `no-such-tenant-${suffix}`]) {
      for (const format of ["csv", "jsonl"]) {
        const response = await page.request.get(`/t/${slug}/audit/export?format=${format}`, { maxRedirects: 0 });
        expect(response.status(), `${user.email} exporting ${slug}`).toBe(404);
        expect(response.headers()["content-disposition"]).toBeUndefined();
        const text = await response.text();
        expect(text).not.toContain(other.name);
        answers.push(text);
      }
    }
  }
  // One answer for all: nothing tells an existing tenant from a missing one.
  expect(new Set(answers)).toEqual(new Set([JSON.stringify({ error: { code: "not_found", message: "No such tenant." } })]));

  const signedOut = await newPage();
  const response = await signedOut.request.get("/t/acme/audit/export?format=csv", { maxRedirects: 0 });
  expect(response.status()).toBe(401);
  expect(((await response.json()) as { error: { code: string } }).error.code).toBe("unauthenticated");
});
