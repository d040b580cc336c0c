import { DEMO, expect, test } from "./fixtures";

// A tenant on Google Cloud KMS in the browser: the demo's Hooli tenant, whose key in the
// development Cloud KMS already binds Custody's service account, registers it by resource
// name (after a malformed one is refused), sees the gcloud bindings and verifies live through
// @google-cloud/kms.

test.describe.configure({ timeout: 180_000 });

const HOOLI_ADMIN = { email: "admin@hooli.example", password: DEMO.acmeAdmin.password };
const KEY = "projects/acme-customer/locations/europe-west1/keyRings/custody-demo/cryptoKeys/hooli";

test("a tenant admin registers and verifies a Google Cloud KMS key", async ({ pageAs }) => {
  const page = await pageAs(HOOLI_ADMIN);
  await page.goto("/t/hooli/keys");
  // The radio itself is visually hidden: a person clicks its label.
  const chooseGcp = async () => {
    await page.locator("label", { hasText: "Google Cloud KMS" }).click();
    await expect(page.getByRole("radio", { name: "Google Cloud KMS" })).toBeChecked();
  };
  await chooseGcp();

  // A key version's name is refused with what to give instead; nothing is registered.
  await page.getByLabel("Key resource name").fill(`${KEY}/cryptoKeyVersions/1`);
  await page.getByRole("button", { name: "Register key" }).click();
  await expect(page.getByText(/That names a key version/)).toBeVisible();
  await expect(page.getByText("No key registered yet")).toBeVisible();

  await chooseGcp();
  await page.getByLabel("Key resource name").fill(KEY);
  await page.getByRole("button", { name: "Register key" }).click();
  await page.waitForURL(/\/t\/hooli\/keys\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("key-ref")).toHaveText(KEY);
  await expect(page.getByTestId("key-provider")).toHaveText("Google Cloud KMS");
  await expect(page.getByTestId("key-location")).toContainText("europe-west1");
  await expect(page.getByTestId("gcloud-bindings")).toContainText("gcloud kms keys add-iam-policy-binding hooli");
  await expect(page.getByTestId("gcloud-bindings")).toContainText("--role roles/cloudkms.cryptoKeyEncrypterDecrypter");

  await page.getByRole("button", { name: "Verify access" }).click();
  await expect(page.getByText("Verified. This key is now the tenant's primary key")).toBeVisible();
  await expect(page.locator('[data-testid="verify-step"][data-ok="true"]')).toHaveCount(3);
  await expect(page.getByTestId("key-status")).toHaveText("active");
});
