import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { APIResponse } from "@playwright/test";
import { DEMO_PASSWORD } from "../lib/dev/idp/users";
import { CANARY_FILE, type Canaries } from "../scripts/secrets-canary";
import { DEMO, createTenantAsVendor, customerKey, expect, test, uniqueSuffix } from "./fixtures";

// Secrets canaries. This spec makes one of each secret Custody handles, through the product as
// a user does — a data key from the key service, a service credential's secret, a webhook's
// signing secret and its URL's query-string token, a console session's token — and asks for
// error answers around each. It checks those answers here; the rest of the run's output (the
// server's log of the whole e2e run, the database dump the e2e server takes before dropping its
// database, and .next/static) is scanned for the same values by scripts/secrets-scan.ts, which
// `npm test` runs after Playwright. Each value must be found nowhere.

test.describe.configure({ timeout: 180_000 });

test("secrets made through the product appear in no error answer (and are left for the scan of logs, dump and bundle)", async ({ pageAs }) => {
  const suffix = uniqueSuffix();
  const slug = `vandelay-${suffix}`;
  // The development IdP admits every address Custody has invited, with the demo password.
  const admin = { email: `canary-admin-${suffix}@vandelay.example`, password: DEMO_PASSWORD };
  const vendor = await pageAs(DEMO.vendor);
  await createTenantAsVendor(vendor, { name: `Vandelay ${suffix}`, slug, adminEmail: admin.email });

  // A service credential for the tenant: its secret is the token's part after the id.
  await vendor.goto("/vendor/credentials");
  await vendor.getByLabel("Name", { exact: true }).fill(`canary-app-${suffix}`);
  await vendor.getByRole("checkbox", { name: /^wrap/ }).check();
  await vendor.getByRole("checkbox", { name: /^unwrap/ }).check();
  await vendor.getByLabel("Tenant", { exact: true }).selectOption({ label: `Vandelay ${suffix} (${slug})` });
  await vendor.getByRole("button", { name: "Create credential" }).click();
  const token = (await vendor.getByTestId("issued-token-value").textContent())!.trim();
  const credentialSecret = token.slice("csk_".length + 32 + 1);
  expect(credentialSecret.length).toBeGreaterThanOrEqual(40);

  // The tenant's own key, registered and verified, so the key service hands out data keys.
  const page = await pageAs(admin);
  await page.goto(`/t/${slug}`);
  const tenantId = (await page.getByText(/^[0-9a-f-]{36}$/).first().textContent())!.trim();
  const arn = await customerKey({ tenantId, slug });
  await page.goto(`/t/${slug}/keys`);
  await page.getByLabel("KMS key ARN").fill(arn);
  await page.getByRole("button", { name: "Register key" }).click();
  await page.getByRole("button", { name: "Verify access" }).click();
  await expect(page.getByText("Verified. This key is now the tenant's primary key")).toBeVisible();

  const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const metadata = { dataLabel: "canary", objectId: `canary-${suffix}`, reason: "secrets canary" };
  const wrapped = await page.request.post("/api/v1/wrap", { headers: auth, data: { tenantId, metadata } });
  expect(wrapped.status()).toBe(200);
  const { dek, edek } = (await wrapped.json()) as { dek: string; edek: string };

  // A webhook sink whose URL carries a token (deliveries to a closed port fail, and are logged).
  const urlToken = `canary${randomBytes(18).toString("hex")}`;
  await page.goto(`/t/${slug}/sinks`);
  await page.getByLabel("Name", { exact: true }).fill("canary hook");
  await page.getByLabel("HTTPS URL").fill(`https://127.0.0.1:9/custody-canary?token=${urlToken}`);
  await page.getByRole("button", { name: "Add log sink" }).click();
  const signingSecret = (await page.getByTestId("sink-secret-value").textContent())!.trim();
  const sinkHref = (await page.getByRole("link", { name: "Open it" }).getAttribute("href"))!;

  const session = (await page.context().cookies()).find((c) => c.name === "next-auth.session-token")!.value;
  const canaries: Canaries = { dek, credentialSecret, webhookSigningSecret: signingSecret, webhookUrlToken: urlToken, sessionToken: session };

  // Error answers around each secret: none may carry any of them.
  const answers: Array<[string, APIResponse]> = [];
  const ask = async (what: string, response: Promise<APIResponse>) => answers.push([what, await response]);
  const otherTenant = "00000000-0000-4000-8000-00000000c0de";
  await ask("wrong secret", page.request.post("/api/v1/wrap", { headers: { ...auth, authorization: `Bearer ${token.slice(0, -4)}AAAA` }, data: { tenantId, metadata } }));
  await ask("another tenant", page.request.post("/api/v1/wrap", { headers: auth, data: { tenantId: otherTenant, metadata } }));
  await ask("data key sent back as a field", page.request.post("/api/v1/wrap", { headers: auth, data: { tenantId, metadata, dek } }));
  await ask("data key as an EDEK", page.request.post("/api/v1/unwrap", { headers: auth, data: { tenantId, edek: dek, metadata } }));
  await ask("EDEK under another label", page.request.post("/api/v1/unwrap", { headers: auth, data: { tenantId, edek, metadata: { ...metadata, dataLabel: "other" } } }));
  await ask("token in the body, not JSON", page.request.post("/api/v1/wrap", { headers: auth, data: `{"tenantId":"${token}",` }));
  await ask("session token as a bearer token", page.request.post("/api/v1/wrap", { headers: { ...auth, authorization: `Bearer ${session}` }, data: { tenantId, metadata } }));
  await ask("session token in a forged callback", page.request.get(`/api/auth/callback/oidc?code=${session}&state=${signingSecret}`, { maxRedirects: 0 }));
  await ask("the sink's page", page.request.get(sinkHref));
  await ask("another tenant's sink page", page.request.get(`/t/acme/sinks/${sinkHref.split("/").at(-1)}`));
  expect(answers.map(([what, r]) => `${what}: ${r.status()}`)).toEqual([
    "wrong secret: 401",
    "another tenant: 403",
    "data key sent back as a field: 400",
    "data key as an EDEK: 422",
    "EDEK under another label: 422",
    "token in the body, not JSON: 400",
    "session token as a bearer token: 401",
    "session token in a forged callback: 302",
    "the sink's page: 200",
    "another tenant's sink page: 404",
  ]);
  for (const [what, response] of answers) {
    const text = `${JSON.stringify(response.headers())}\n${await response.text()}`;
    for (const [name, value] of Object.entries(canaries)) expect(text.includes(value), `${what} carries the ${name}`).toBe(false);
  }

  // For scripts/secrets-scan.ts, after the run (the file is in the e2e data folder, not scanned).
  fs.mkdirSync(path.dirname(CANARY_FILE), { recursive: true });
  fs.writeFileSync(CANARY_FILE, JSON.stringify(canaries), { mode: 0o600 });
});
