import { APP_ORIGIN, DEMO, IDP_ORIGIN, auditRows, expect, memberRow, signIn, submitIdpLogin, test } from "./fixtures";

// Signing in and out through the real OIDC flow, and what someone without access sees.

test("a signed-out visitor is sent to sign-in, comes back to the page they asked for, and can sign out", async ({ newPage, pageAs }) => {
  // Acme's auditor watches the audit trail for the sign-out.
  const auditor = await pageAs(DEMO.acmeAuditor);
  const signOuts = auditRows(auditor, "auth.sign_out", DEMO.acmeAdmin.email);
  await auditor.goto("/t/acme/audit");
  await expect(auditor.getByRole("heading", { name: "Audit trail" })).toBeVisible();
  const signOutsBefore = await signOuts.count();

  const page = await newPage();
  const { email, password } = DEMO.acmeAdmin;

  // Signed out: the protected page sends the visitor to sign-in, remembering where they were going.
  await page.goto("/t/acme/members");
  await expect(page).toHaveURL(/\/signin\?callbackUrl=%2Ft%2Facme%2Fmembers$/);
  await expect(page.getByRole("heading", { name: "Sign in to Custody" })).toBeVisible();
  await expect(page.getByText("Acme Corp")).toHaveCount(0);

  // On to the identity provider.
  await page.getByRole("button", { name: /^Continue with / }).click();
  await expect(page).toHaveURL((url) => url.origin === IDP_ORIGIN);
  await expect(page.getByRole("heading", { name: "Sign in", exact: true })).toBeVisible();

  // A wrong password: the IdP says so and keeps the visitor on its form.
  await submitIdpLogin(page, email, "not-the-password");
  await expect(page.getByRole("alert")).toHaveText("Wrong email or password.");
  await expect(page).toHaveURL((url) => url.origin === IDP_ORIGIN && url.pathname.startsWith("/interaction/"));
  await expect(page.getByRole("button", { name: "Sign in", exact: true })).toBeVisible();

  // The right password: back at Custody, on the page first asked for.
  await submitIdpLogin(page, email, password);
  await expect(page).toHaveURL(`${APP_ORIGIN}/t/acme/members`);
  await expect(page.getByRole("heading", { name: "Members", exact: true })).toBeVisible();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Acme Corp");
  await expect(memberRow(page, email)).toBeVisible();

  // A reload keeps the session.
  await page.reload();
  await expect(page).toHaveURL(`${APP_ORIGIN}/t/acme/members`);
  await expect(memberRow(page, email)).toBeVisible();

  // Keep the session cookie, to check afterwards that signing out ended the session on the server.
  const sessionCookie = (await page.context().cookies()).find((c) => c.name === "next-auth.session-token");
  expect(sessionCookie, "a session cookie after signing in").toBeDefined();

  // Signing out lands on the sign-in page with a notice.
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin\?signedOut=1$/);
  await expect(page.getByText("You have signed out.")).toBeVisible();
  await expect(page.getByRole("button", { name: /^Continue with / })).toBeVisible();

  // The protected page asks for sign-in again.
  await page.goto("/t/acme/members");
  await expect(page).toHaveURL(/\/signin\?callbackUrl=%2Ft%2Facme%2Fmembers$/);
  await expect(memberRow(page, email)).toHaveCount(0);

  // And the old session cookie no longer opens anything: the session is gone on the server.
  await page.context().addCookies([sessionCookie!]);
  await page.goto("/t/acme/members");
  await expect(page).toHaveURL(/\/signin/);
  await expect(page.getByRole("heading", { name: "Sign in to Custody" })).toBeVisible();
  await expect(memberRow(page, email)).toHaveCount(0);

  // The tenant's audit trail has the sign-out.
  await auditor.reload();
  await expect(signOuts).toHaveCount(signOutsBefore + 1);
});

test("cancelling at the identity provider says the sign-in was cancelled (no error) and lets the person try again", async ({ newPage }) => {
  const page = await newPage();

  await page.goto("/t/acme/audit");
  await page.getByRole("button", { name: /^Continue with / }).click();
  await expect(page).toHaveURL((url) => url.origin === IDP_ORIGIN);
  await page.getByRole("button", { name: "Cancel" }).click();

  await expect(page).toHaveURL(/\/signin\?/);
  await expect(page.getByRole("status").filter({ hasText: "Sign-in cancelled" })).toBeVisible();
  await expect(page.getByText("Could not sign you in")).toHaveCount(0);

  // Trying again brings the IdP's form back.
  await page.getByRole("button", { name: /^Continue with / }).click();
  await expect(page).toHaveURL((url) => url.origin === IDP_ORIGIN);
  await expect(page.getByLabel("Password", { exact: true })).toBeVisible();
});

// After a failed or cancelled sign-in, next-auth hands back an absolute callbackUrl of Custody's own
// origin; trying again must still land on the page first asked for.
test("after a cancelled sign-in, trying again still lands on the page first asked for", async ({ newPage }) => {
  const page = await newPage();

  await page.goto("/t/acme/audit");
  await page.getByRole("button", { name: /^Continue with / }).click();
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByText("Sign-in cancelled")).toBeVisible();

  await signIn(page, DEMO.acmeAdmin.email, DEMO.acmeAdmin.password);
  await expect(page).toHaveURL(`${APP_ORIGIN}/t/acme/audit`);
  await expect(page.getByRole("heading", { name: "Audit trail" })).toBeVisible();
});

test("someone the IdP knows but Custody does not sees a clear no-access page", async ({ newPage }) => {
  const page = await newPage();
  const { email, password } = DEMO.outsider;

  await page.goto("/");
  await expect(page).toHaveURL(/\/signin$/);
  await signIn(page, email, password);

  await expect(page).toHaveURL(/\/no-access/);
  await expect(page.getByRole("heading", { name: "You don't have access to Custody" })).toBeVisible();
  await expect(page.getByText(/not a member of any tenant here/)).toBeVisible();
  await expect(page.getByText(/ask your organisation's custody admin to add you/i)).toBeVisible();
  await expect(page.getByRole("link", { name: "Sign in with a different account" })).toBeVisible();
  // Not an error page.
  await expect(page.getByText("Could not sign you in")).toHaveCount(0);
  await expect(page.getByText(/something went wrong|application error|internal server error/i)).toHaveCount(0);

  // No session came with it: protected pages still ask for sign-in.
  await page.goto("/t/acme");
  await expect(page).toHaveURL(/\/signin\?callbackUrl=%2Ft%2Facme$/);

  // The page shows no text taken from its URL (a crafted link cannot put words in Custody's mouth).
  await page.goto("/no-access?email=security-team%40custody.example");
  await expect(page.getByRole("heading", { name: "You don't have access to Custody" })).toBeVisible();
  await expect(page.getByText("security-team@custody.example")).toHaveCount(0);
});

// A refused person sees which account the IdP signed them in with (from a signed cookie, not the URL).
test("the no-access page shows which account the IdP signed in", async ({ newPage }) => {
  const page = await newPage();
  await signIn(page, DEMO.outsider.email, DEMO.outsider.password);
  await expect(page.getByRole("heading", { name: "You don't have access to Custody" })).toBeVisible();
  await expect(page.getByText(DEMO.outsider.email)).toBeVisible();
});

// The sign-in page must never send anyone to another site, whatever its callbackUrl says.
test("a signed-in person's sign-in link cannot send them to another site", async ({ pageAs }) => {
  const page = await pageAs(DEMO.acmeAdmin);
  const offsite: string[] = [];
  page.on("request", (request) => {
    if (new URL(request.url()).origin !== APP_ORIGIN) offsite.push(request.url());
  });
  for (const target of ["/%5Cevil.example/phish", "//evil.example/phish", "https://evil.example/phish"]) {
    await page.goto(`/signin?callbackUrl=${target}`).catch(() => undefined);
    expect(offsite, `callbackUrl=${target}`).toEqual([]);
    await expect(page).toHaveURL(`${APP_ORIGIN}/t/acme`);
  }
});
