import path from "node:path";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Locator,
  type Page,
  test as base,
  expect,
} from "@playwright/test";
import { DEMO_PASSWORD, type DevIdpUser, loadUsersFile } from "../lib/dev/idp/users";
import { DEV_KMS_ACCOUNT_ID, DEV_KMS_CUSTOMER_ADMIN, DEV_KMS_VENDOR, devKmsClientConfig } from "../lib/dev/kms/defaults";
import { keyPolicyAdmitting } from "../lib/kms/providers/aws/instructions";

// Shared helpers for the end-to-end suite. Every sign-in goes through the real OIDC flow:
// Custody's /signin page → the development IdP's password form → Custody's callback.

export const APP_ORIGIN = `http://localhost:${process.env.E2E_PORT ?? 3100}`;
export const IDP_ORIGIN = `http://localhost:${process.env.E2E_IDP_PORT ?? 3101}`;
/** The development KMS the e2e server starts (DEV_KMS_PORT = E2E_IDP_PORT + 1, playwright.config.ts). */
export const KMS_ENDPOINT = `http://127.0.0.1:${Number(process.env.E2E_IDP_PORT ?? 3101) + 1}`;

export type User = { email: string; password: string };

/** The seeded demo people (lib/dev/idp/users.ts, lib/dev/demo/seed.ts). */
export const DEMO = {
  vendor: { email: "vendor@custody.example", password: DEMO_PASSWORD },
  acmeAdmin: { email: "admin@acme.example", password: DEMO_PASSWORD },
  acmeAuditor: { email: "auditor@acme.example", password: DEMO_PASSWORD },
  outsider: { email: "outsider@example.com", password: DEMO_PASSWORD },
} as const satisfies Record<string, User>;

// The same file the dev IdP loads (scripts/e2e-server.ts), read with the same validation.
const extraUsers = loadUsersFile(path.join(__dirname, "users.json"));

/** A person from e2e/users.json (the dev IdP knows them; Custody knows them only once invited). */
export function e2eUser(email: string): DevIdpUser {
  const user = extraUsers.find((u) => u.email === email);
  if (!user) throw new Error(`${email} is not in e2e/users.json`);
  return user;
}

/** A short suffix that makes tenant names and slugs unique per run (lower-case letters and digits). */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
}

const isIdp = (url: string) => url.startsWith(`${IDP_ORIGIN}/`);
const isAppPage = (url: URL) => url.origin === APP_ORIGIN && !url.pathname.startsWith("/api/auth");

/**
 * Fills in and submits the dev IdP's password form (the page must be showing it) and waits
 * until the browser has left the IdP — back at Custody, or still on the form when refused.
 */
export async function submitIdpLogin(page: Page, email: string, password: string): Promise<void> {
  await expect(page.getByRole("heading", { name: "Sign in", exact: true })).toBeVisible();
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

/**
 * Signs in through the real OIDC flow. From any page that is not already Custody's sign-in
 * page or the IdP's form, it starts at /signin. Resolves once the browser is back on a Custody
 * page (wherever Custody sent it); fails if the IdP refuses the credentials.
 */
export async function signIn(page: Page, email: string, password: string): Promise<void> {
  const here = page.url();
  if (!isIdp(here)) {
    const url = here.startsWith(APP_ORIGIN) ? new URL(here) : null;
    if (url?.pathname !== "/signin") await page.goto("/signin");
    await page.getByRole("button", { name: /^Continue with / }).click();
    await page.waitForURL((u) => isIdp(u.href));
  }
  await submitIdpLogin(page, email, password);
  try {
    await page.waitForURL(isAppPage, { timeout: 30_000 });
  } catch (error) {
    if (await page.getByText("Wrong email or password.").isVisible()) {
      throw new Error(`The dev IdP refused the password for ${email}`);
    }
    throw error;
  }
}

/** A new browser context with the suite's base URL (the config's `use` does not reach hand-made contexts). */
async function newContext(browser: Browser, storageState?: Awaited<ReturnType<BrowserContext["storageState"]>>, options: BrowserContextOptions = {}) {
  return browser.newContext({ ...options, baseURL: APP_ORIGIN, storageState });
}

type StorageState = Awaited<ReturnType<BrowserContext["storageState"]>>;

/** Sessions signed in once per worker and reused (each through the real flow, the first time). */
class SessionCache {
  private readonly states = new Map<string, Promise<StorageState>>();
  constructor(private readonly browser: Browser) {}

  state(user: User): Promise<StorageState> {
    let state = this.states.get(user.email);
    if (!state) {
      state = (async () => {
        const context = await newContext(this.browser);
        try {
          const page = await context.newPage();
          await signIn(page, user.email, user.password);
          return await context.storageState();
        } finally {
          await context.close();
        }
      })();
      state.catch(() => this.states.delete(user.email));
      this.states.set(user.email, state);
    }
    return state;
  }
}

type Fixtures = {
  /** A page in a new, signed-out browser context of its own (closed when the test ends). */
  newPage: () => Promise<Page>;
  /**
   * A page in a new browser context signed in as `user`. The session is signed in through the
   * IdP once per worker and reused by later tests (Custody keeps it in its database for 8 hours).
   */
  pageAs: (user: User, options?: BrowserContextOptions) => Promise<Page>;
};

export const test = base.extend<Fixtures & { contexts: BrowserContext[] }, { sessions: SessionCache }>({
  sessions: [
    async ({ browser }, provide) => {
      await provide(new SessionCache(browser));
    },
    { scope: "worker" },
  ],
  // Every context a test opens; on failure each open page's screenshot is attached to the report
  // (the config's screenshot/trace options only cover Playwright's own `page` fixture).
  contexts: async ({}, provide, testInfo) => {
    const contexts: BrowserContext[] = [];
    await provide(contexts);
    const failed = testInfo.status !== testInfo.expectedStatus;
    for (const [i, context] of contexts.entries()) {
      if (failed) {
        for (const [j, page] of context.pages().entries()) {
          const shot = await page.screenshot({ fullPage: true }).catch(() => null);
          if (shot) await testInfo.attach(`context-${i + 1}-page-${j + 1}`, { body: shot, contentType: "image/png" });
        }
      }
      await context.close();
    }
  },
  newPage: async ({ browser, contexts }, provide) => {
    await provide(async () => {
      const context = await newContext(browser);
      contexts.push(context);
      return context.newPage();
    });
  },
  pageAs: async ({ browser, sessions, contexts }, provide) => {
    await provide(async (user, options) => {
      const context = await newContext(browser, await sessions.state(user), options);
      contexts.push(context);
      return context.newPage();
    });
  },
});

export { expect };

// ---------------------------------------------------------------------------------------
// Page helpers.

/** A member's row on a tenant's Members page. */
export function memberRow(page: Page, email: string): Locator {
  return page.locator(`[data-testid="member-row"][data-email="${email}"]`);
}

/** A tenant's row in the vendor's tenant table. */
export function tenantRow(page: Page, slug: string): Locator {
  return page.locator(`[data-testid="tenant-row"][data-slug="${slug}"]`);
}

/** A tenant's cell in the vendor's tenant table, found by its column's heading (e.g. "Members"). */
export async function tenantCell(page: Page, slug: string, column: string): Promise<Locator> {
  const table = page.getByRole("table").filter({ has: page.getByTestId("tenant-row") });
  const headings = (await table.getByRole("columnheader").allTextContents()).map((h) => h.trim());
  const index = headings.indexOf(column);
  expect(index, `the tenant table's "${column}" column (headings: ${headings.join(", ")})`).toBeGreaterThanOrEqual(0);
  return tenantRow(page, slug).getByRole("cell").nth(index);
}

/** Audit-trail rows that mention every one of `texts`. */
export function auditRows(page: Page, ...texts: string[]): Locator {
  let rows = page.getByTestId("audit-row");
  for (const text of texts) rows = rows.filter({ hasText: text });
  return rows;
}

/** Next's 404 page, as a visitor sees it. */
export async function expectNotFoundPage(page: Page): Promise<void> {
  await expect(page.getByRole("heading", { name: "404" })).toBeVisible();
  await expect(page.getByText("This page could not be found.")).toBeVisible();
}

/**
 * A vendor admin creates a tenant through the vendor console's form, inviting `adminEmail` as
 * its first admin; waits for the confirmation and the new row. Returns the tenant's slug.
 */
export async function createTenantAsVendor(
  vendorPage: Page,
  tenant: { name: string; slug: string; adminEmail: string },
): Promise<string> {
  await vendorPage.goto("/vendor");
  await vendorPage.getByLabel("Customer name").fill(tenant.name);
  await vendorPage.getByLabel("URL name").fill(tenant.slug);
  await vendorPage.getByLabel("First admin's email").fill(tenant.adminEmail);
  await vendorPage.getByRole("button", { name: "Create tenant and invite admin" }).click();
  await expect(vendorPage.getByText(`${tenant.name} was created.`)).toBeVisible();
  await expect(tenantRow(vendorPage, tenant.slug)).toBeVisible();
  return tenant.slug;
}

/** A tenant admin adds a member through the Members page's "Add a member" form. */
export async function addMember(adminPage: Page, slug: string, email: string, role: "admin" | "auditor"): Promise<void> {
  if (new URL(adminPage.url()).pathname !== `/t/${slug}/members`) await adminPage.goto(`/t/${slug}/members`);
  await adminPage.getByLabel("Email", { exact: true }).fill(email);
  await adminPage.getByLabel("Role", { exact: true }).selectOption(role);
  await adminPage.getByRole("button", { name: "Add member" }).click();
  await expect(adminPage.getByText(`${email} was invited as ${role}.`)).toBeVisible();
  await expect(memberRow(adminPage, email).getByTestId("member-role")).toHaveText(role);
}

/** The customer, in their own AWS account: a key whose policy lets Custody in for `tenant` (or not at all). */
export async function customerKey(tenant?: { tenantId: string; slug: string }): Promise<string> {
  const client = new KMSClient(devKmsClientConfig(KMS_ENDPOINT, DEV_KMS_CUSTOMER_ADMIN));
  try {
    const policy = keyPolicyAdmitting({
      accountId: DEV_KMS_ACCOUNT_ID,
      vendorPrincipalArn: DEV_KMS_VENDOR.arn,
      tenants: tenant ? [{ tenantId: tenant.tenantId, tenantSlug: tenant.slug }] : [],
    });
    const { KeyMetadata } = await client.send(new CreateKeyCommand({ Policy: policy }));
    return KeyMetadata!.Arn!;
  } finally {
    client.destroy();
  }
}
