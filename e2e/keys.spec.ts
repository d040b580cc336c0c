import { CreateGrantCommand, KMSClient } from "@aws-sdk/client-kms";
import type { Page, Request } from "@playwright/test";
import { DEV_KMS_CUSTOMER_ADMIN, DEV_KMS_VENDOR, devKmsClientConfig } from "../lib/dev/kms/defaults";
import { DEMO, KMS_ENDPOINT, type User, addMember, auditRows, createTenantAsVendor, customerKey, e2eUser, expect, expectNotFoundPage, test, uniqueSuffix } from "./fixtures";

// Customer keys in the browser: a tenant admin registers a key made in the development KMS
// (through the real AWS SDK, as the customer, in the customer's account 111122223333), sees
// what to grant, verifies live, revokes and restores; Custody's role is in the vendor's own
// account (999988887777), as in production. An auditor and another tenant can do none of it.

test.describe.configure({ timeout: 180_000 });

async function freshTenant(pageAs: (user: User) => Promise<Page>, label: string, admin: User) {
  const suffix = uniqueSuffix();
  const slug = `${label.toLowerCase()}-${suffix}`;
  await createTenantAsVendor(await pageAs(DEMO.vendor), { name: `${label} ${suffix}`, slug, adminEmail: admin.email });
  const page = await pageAs(admin);
  await page.goto(`/t/${slug}`);
  const tenantId = (await page.getByText(/^[0-9a-f-]{36}$/).first().textContent())!.trim();
  return { slug, tenantId, page };
}

async function registerKey(page: Page, slug: string, arn: string): Promise<string> {
  await page.goto(`/t/${slug}/keys`);
  await page.getByLabel("KMS key ARN").fill(arn);
  await page.getByRole("button", { name: "Register key" }).click();
  await page.waitForURL(new RegExp(`/t/${slug}/keys/[0-9a-f-]{36}$`));
  return page.url().split("/").at(-1)!;
}

test("a tenant admin registers a key, sees what to grant, verifies, revokes and restores", async ({ pageAs }) => {
  const admin = e2eUser("keys-admin@stark.example");
  const { slug, tenantId, page } = await freshTenant(pageAs, "Stark", admin);

  // An alias is refused with the reason, nothing registered.
  await page.goto(`/t/${slug}/keys`);
  await page.getByLabel("KMS key ARN").fill("arn:aws:kms:us-east-1:111122223333:alias/prod");
  await page.getByRole("button", { name: "Register key" }).click();
  await expect(page.getByText(/That is an alias ARN/)).toBeVisible();
  await expect(page.getByText("No key registered yet")).toBeVisible();

  // Registering starts with the provider: only the ones this deployment is set up for.
  await expect(page.getByRole("radio", { name: "AWS KMS" })).toBeChecked();
  const arn = await customerKey({ tenantId, slug });
  await registerKey(page, slug, arn);
  await expect(page.getByTestId("key-ref")).toHaveText(arn);
  await expect(page.getByTestId("key-provider")).toHaveText("AWS KMS");
  await expect(page.getByTestId("key-location")).toContainText("us-east-1");
  await expect(page.getByTestId("key-status")).toHaveText("pending verification");
  const policy = JSON.parse((await page.getByTestId("policy-statements").textContent())!);
  expect(policy[1].Principal.AWS).toBe(DEV_KMS_VENDOR.arn);
  expect(policy[1].Condition.StringEquals["kms:EncryptionContext:tenant_id"]).toBe(tenantId);
  await expect(page.getByTestId("grant-commands")).toContainText(`--key-id ${arn}`);

  await page.getByRole("button", { name: "Verify access" }).click();
  await expect(page.getByText("Verified. This key is now the tenant's primary key")).toBeVisible();
  await expect(page.locator('[data-testid="verify-step"][data-ok="true"]')).toHaveCount(3);
  await expect(page.getByTestId("key-status")).toHaveText("active");

  // Revoke: the dialog names the tenant and what stops; it needs the tenant's URL name typed.
  await page.goto(`/t/${slug}/keys`);
  await expect(page.getByTestId("key-row").getByTestId("key-provider")).toContainText("AWS KMS");
  await expect(page.getByText("Access active")).toBeVisible();
  await page.getByRole("button", { name: "Revoke access" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toContainText("can no longer wrap or unwrap any data key");
  await expect(dialog.getByRole("button", { name: "Revoke access now" })).toBeDisabled();
  await dialog.getByLabel(`Type ${slug} to confirm`).fill(slug);
  await dialog.getByRole("button", { name: "Revoke access now" }).click();
  await expect(page.getByTestId("revoke-result")).toContainText("Revocation took effect at");
  await expect(page.getByText(/access to .* data is revoked/)).toBeVisible();
  await expect(page.getByText("aws kms disable-key")).toBeVisible();
  await expect(page.getByTestId("key-status")).toHaveText("revoked");

  await page.getByRole("button", { name: "Verify and restore access" }).click();
  await expect(page.getByText("Access restored after a successful verification.")).toBeVisible();
  await expect(page.getByText("Access active")).toBeVisible();
  await expect(page.getByTestId("key-status")).toHaveText("active");

  await page.goto(`/t/${slug}/audit`);
  for (const action of ["key.registered", "key.verified", "access.granted", "access.revoked", "access.restored"]) {
    await expect(auditRows(page, action, "success").first()).toBeVisible();
  }
});

test("verifying a key whose policy does not admit Custody keeps trying while AWS may apply a change, then names the customer's side", async ({ pageAs }) => {
  const admin = e2eUser("keys-denied@globex.example");
  const { slug, page } = await freshTenant(pageAs, "Denied", admin);
  await registerKey(page, slug, await customerKey());
  await page.getByRole("button", { name: "Verify access" }).click();
  // The e2e server waits a few seconds (KMS_VERIFY_WAIT_SECONDS), production five minutes.
  await expect(page.getByTestId("verify-waiting")).toContainText("AWS can take a few minutes to apply a new grant or key-policy statement — still trying");
  await expect(page.getByTestId("verify-time-left")).toHaveText(/^\d:\d\d$/);
  await expect(page.getByText("Verification failed. See the failing step below.")).toBeVisible();
  await expect(page.getByText(/^Your key policy \(or grant\) does not allow Custody's AWS principal to call kms:GenerateDataKey for this tenant\./)).toBeVisible();
  // A failed attempt is not a state: the key is still pending, never verified, the attempt shown beside it.
  await expect(page.getByTestId("key-status")).toHaveText("pending verification");
  await expect(page.getByTestId("key-last-verified")).toContainText("never");
  await expect(page.getByTestId("key-last-attempt")).toContainText("failed");

  // Registered by mistake: the admin removes it, and the removal is in the trail.
  await page.getByRole("button", { name: "Remove this key" }).click();
  await page.waitForURL(new RegExp(`/t/${slug}/keys$`));
  await expect(page.getByText("No key registered yet")).toBeVisible();
  await page.goto(`/t/${slug}/audit`);
  await expect(auditRows(page, "key.removed", "success")).toHaveCount(1);
});

test("the grant path: one grant from the instructions, its id added after registration, retired on revoke", async ({ pageAs }) => {
  const admin = e2eUser("keys-grant@initech.example");
  const { slug, tenantId, page } = await freshTenant(pageAs, "Initech", admin);
  const arn = await customerKey(); // only the customer's account may use it: Custody gets in by the grant
  await registerKey(page, slug, arn);
  const command = (await page.getByTestId("grant-commands").textContent())!;
  expect(command.split("\n")).toHaveLength(1);
  expect(command).toContain("--operations DescribeKey GenerateDataKey Decrypt Encrypt");
  expect(command).not.toMatch(/ReEncrypt|WithoutPlaintext/);

  const client = new KMSClient(devKmsClientConfig(KMS_ENDPOINT, DEV_KMS_CUSTOMER_ADMIN));
  let grantId: string;
  try {
    ({ GrantId: grantId } = (await client.send(
      new CreateGrantCommand({
        KeyId: arn,
        GranteePrincipal: DEV_KMS_VENDOR.arn,
        RetiringPrincipal: DEV_KMS_VENDOR.arn,
        Operations: ["DescribeKey", "GenerateDataKey", "Decrypt"],
        Constraints: { EncryptionContextSubset: { tenant_id: tenantId } },
      }),
    )) as { GrantId: string });
  } finally {
    client.destroy();
  }
  await page.getByLabel("Grant ids").fill("not-a-grant-id");
  await page.getByRole("button", { name: "Save grant ids" }).click();
  await expect(page.getByText(/is not a grant id: a grant id is 64 hexadecimal characters/).first()).toBeVisible();
  await page.getByLabel("Grant ids").fill(grantId);
  await page.getByRole("button", { name: "Save grant ids" }).click();
  await expect(page.getByText("1 grant recorded: Custody retires it when you revoke.")).toBeVisible();
  await expect(page.getByTestId("key-grants")).toContainText(grantId);

  await page.getByRole("button", { name: "Verify access" }).click();
  await expect(page.getByText("Verified. This key is now the tenant's primary key")).toBeVisible();

  await page.goto(`/t/${slug}/keys`);
  await page.getByRole("button", { name: "Revoke access" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel(`Type ${slug} to confirm`).fill(slug);
  await dialog.getByRole("button", { name: "Revoke access now" }).click();
  await expect(page.getByTestId("revoke-kms-side")).toContainText("Grant retired.");
  await expect(page.getByTestId("revoke-result")).toContainText("What was undone in your KMS can take a few minutes to apply everywhere");
});

test("the vendor console shows the IAM policy Custody's role needs, in the vendor's own account, and its self-test passes on the assumed role", async ({ pageAs }) => {
  const page = await pageAs(DEMO.vendor);
  await page.goto("/vendor");
  await page.getByRole("link", { name: "AWS role" }).click();
  await expect(page.getByTestId("vendor-role-arn")).toHaveText(DEV_KMS_VENDOR.arn);
  expect(DEV_KMS_VENDOR.arn).toContain(":999988887777:");
  await expect(page.getByTestId("vendor-credential-source")).toContainText("assumes this role with STS, with an external id");
  const policy = JSON.parse((await page.getByTestId("vendor-iam-policy").textContent())!);
  const actions = policy.Statement.flatMap((s: { Action: string | string[] }) => [s.Action].flat()).sort();
  expect(actions).toEqual(["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]);
  expect(JSON.stringify(policy)).toContain("kms:EncryptionContext:tenant_id");
  expect(JSON.stringify(policy)).toContain('"kms:CallerAccount":"999988887777"');
  expect(JSON.parse((await page.getByTestId("vendor-trust-policy").textContent())!).Statement[0].Condition.StringEquals).toHaveProperty("sts:ExternalId");

  // The self-test: Custody's credentials resolve to a session of the role tenants admit, and a
  // tenant whose key policy admits Custody answers every call.
  const owner = e2eUser("keys-selftest@umbrella.example");
  const { slug, tenantId, page: adminPage } = await freshTenant(pageAs, "Umbrella", owner);
  await registerKey(adminPage, slug, await customerKey({ tenantId, slug }));
  await adminPage.getByRole("button", { name: "Verify access" }).click();
  await expect(adminPage.getByText("Verified. This key is now the tenant's primary key")).toBeVisible();
  await page.goto("/vendor/aws");
  await page.getByRole("button", { name: "Run self-test" }).click();
  await expect(page.getByTestId("self-test-identity")).toContainText(`arn:aws:sts::999988887777:assumed-role/custody-vendor/${DEV_KMS_VENDOR.sessionName}`);
  await expect(page.getByTestId("self-test-identity")).toContainText("That is the role tenants admit.");
  await expect(page.getByTestId("self-test-tenants").locator("tr", { hasText: `Umbrella ${slug.split("-").at(-1)}` })).toContainText("works");
  // The run is in the tenant's own trail: the customer can tell why Custody called its key.
  await adminPage.goto(`/t/${slug}/audit`);
  await expect(auditRows(adminPage, "Vendor ran the AWS self-test")).toHaveCount(1);
});

test("an auditor sees the keys but cannot act, and another tenant cannot reach them at all", async ({ pageAs }) => {
  const admin = e2eUser("keys-owner@wayne.example");
  const auditorUser = e2eUser("keys-auditor@wayne.example");
  const otherAdmin = e2eUser("keys-other@oscorp.example");
  const { slug, tenantId, page } = await freshTenant(pageAs, "Wayne", admin);
  await addMember(page, slug, auditorUser.email, "auditor");
  const keyId = await registerKey(page, slug, await customerKey({ tenantId, slug }));

  // The admin's verify click, captured to replay with other sessions.
  const sent = page.waitForRequest((r) => r.method() === "POST" && r.url().endsWith(`/keys/${keyId}/verify`));
  await page.getByRole("button", { name: "Verify access" }).click();
  const verify: Request = await sent;
  await expect(page.getByText("Verified.")).toBeVisible();

  const auditor = await pageAs(auditorUser);
  await auditor.goto(`/t/${slug}/keys`);
  await expect(auditor.getByTestId("key-status")).toHaveText("active");
  await expect(auditor.getByRole("button", { name: "Revoke access" })).toHaveCount(0);
  await expect(auditor.getByRole("button", { name: "Register key" })).toHaveCount(0);
  await auditor.goto(`/t/${slug}/keys/${keyId}`);
  await expect(auditor.getByTestId("key-ref")).toBeVisible();
  await expect(auditor.getByRole("button", { name: "Verify access" })).toHaveCount(0);

  const replay = (who: Page) => who.request.post(verify.url());
  const byAuditor = await replay(auditor);
  expect(await byAuditor.text()).toContain("You don't have permission to do that.");

  const other = (await freshTenant(pageAs, "Oscorp", otherAdmin)).page;
  await other.goto(`/t/${slug}/keys`);
  await expectNotFoundPage(other);
  await other.goto(`/t/${slug}/keys/${keyId}`);
  await expectNotFoundPage(other);
  // Another tenant's admin gets the same 404 as for a tenant that does not exist.
  expect((await replay(other)).status()).toBe(404);

  // Both replays were refused; the key is as it was. The auditor's refusal is in this tenant's
  // trail. The other tenant's admin never reached the action: the verify route answers a
  // non-member 404 before anything runs, so nothing they did is in this tenant's trail.
  await page.goto(`/t/${slug}/audit`);
  await expect(auditRows(page, auditorUser.email, "key.verified", "denied")).toHaveCount(1);
  await expect(auditRows(page, "key.verified", "success")).toHaveCount(1);
  await expect(auditRows(page, otherAdmin.email)).toHaveCount(0);
});
