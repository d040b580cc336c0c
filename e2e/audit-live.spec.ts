import { addMember, auditRows, createTenantAsVendor, DEMO, e2eUser, expect, test, uniqueSuffix } from "./fixtures";

// The live audit trail as a tenant's admin meets it: events made elsewhere (another tab of the
// console) appear on the open audit page without a reload; Pause holds them back, counting
// them ("1 new event — Resume"), and Resume brings what arrived meanwhile; scrolled away from
// the top, they wait behind "N new events".
// The stream endpoint itself is tried directly: streamed unbuffered and uncompressed for its
// own tenant, 404 for another tenant, 400 for bad parameters, 401 signed out.

test.describe.configure({ timeout: 120_000 });

test("new events appear on the audit page as they happen, with pause, resume and the new-events marker", async ({ pageAs }) => {
  const admin = e2eUser("live-admin@tyrell.example");
  const suffix = uniqueSuffix();
  const slug = `tyrell-${suffix}`;
  const vendor = await pageAs(DEMO.vendor);
  await createTenantAsVendor(vendor, { name: `Tyrell ${suffix}`, slug, adminEmail: admin.email });

  const page = await pageAs(admin);
  await page.goto(`/t/${slug}/audit`);
  const status = page.getByTestId("live-status");
  await expect(status).toHaveText("Live");
  // A marker that a reload would wipe.
  await page.evaluate(() => ((window as unknown as { noReload: boolean }).noReload = true));

  // The same admin adds a member in another tab; the audit page shows it by itself.
  const other = await pageAs(admin);
  const first = `nexus-one-${suffix}@tyrell.example`;
  await addMember(other, slug, first, "auditor");
  await expect(auditRows(page, "Member invited", first)).toHaveCount(1);
  // Newest first: it is the top row.
  await expect(page.getByTestId("audit-row").first()).toContainText(first);

  // Paused: nothing new is shown; resumed: what arrived meanwhile appears, once.
  await page.getByRole("button", { name: "Pause" }).click();
  await expect(status).toHaveText("Paused");
  const second = `nexus-two-${suffix}@tyrell.example`;
  await addMember(other, slug, second, "auditor");
  // The paused view counts what is waiting without showing it.
  const resume = page.getByRole("button", { name: "1 new event — Resume", exact: true });
  await expect(resume).toBeVisible();
  await expect(status).toHaveText("Paused");
  await expect(auditRows(page, second)).toHaveCount(0);
  await resume.click();
  await expect(page.getByRole("button", { name: "Pause", exact: true })).toBeVisible();
  await expect(status).toHaveText("Live");
  await expect(auditRows(page, "Member invited", second)).toHaveCount(1);
  await expect(auditRows(page, "Member invited", first)).toHaveCount(1);

  // Scrolled away from the newest rows, new ones wait behind a button.
  await page.setViewportSize({ width: 1000, height: 240 });
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  const third = `nexus-three-${suffix}@tyrell.example`;
  await addMember(other, slug, third, "auditor");
  const marker = page.getByRole("button", { name: "1 new event" });
  await expect(marker).toBeVisible();
  await expect(auditRows(page, third)).toHaveCount(0);
  await marker.click();
  await expect(auditRows(page, "Member invited", third)).toHaveCount(1);
  await expect(marker).toHaveCount(0);

  // Each row opens its event's detail, keeping the page's filter.
  const link = page.getByTestId("audit-row").first().getByRole("link").first();
  await expect(link).toHaveAttribute("href", /[?&]event=\d+$/);

  expect(await page.evaluate(() => (window as unknown as { noReload?: boolean }).noReload)).toBe(true);
});

test("the stream endpoint streams its own tenant's trail and refuses everything else", async ({ pageAs, newPage }) => {
  const admin = e2eUser("live-admin@tyrell.example");
  const suffix = uniqueSuffix();
  const slug = `tyrell-${suffix}`;
  const vendor = await pageAs(DEMO.vendor);
  await createTenantAsVendor(vendor, { name: `Tyrell ${suffix}`, slug, adminEmail: admin.email });
  const page = await pageAs(admin);
  await page.goto(`/t/${slug}/audit`);

  // From the browser, as the page's EventSource would: the first bytes arrive without more
  // data behind them (a buffering proxy or compressor would hold them for good; the generous
  // limit only ends the wait), uncompressed although the browser accepts gzip.
  const own = await page.evaluate(async (url) => {
    const controller = new AbortController();
    const response = await fetch(url, { signal: controller.signal });
    const reader = response.body!.getReader();
    const first = await Promise.race([reader.read().then((r) => new TextDecoder().decode(r.value)), new Promise<string>((r) => setTimeout(() => r("(nothing within 15 s)"), 15_000))]);
    controller.abort();
    return {
      status: response.status,
      type: response.headers.get("content-type"),
      cache: response.headers.get("cache-control"),
      encoding: response.headers.get("content-encoding"),
      first,
    };
  }, `/t/${slug}/audit/stream?after=0`);
  expect(own).toMatchObject({ status: 200, type: "text/event-stream; charset=utf-8", cache: "no-cache, no-transform", encoding: null });
  expect(own.first).toContain("retry: ");

  // Another tenant's stream (the demo tenant exists) and a made-up one look the same: 404.
  for (const other of ["acme", `no-such-${suffix}`]) {
    const response = await page.request.get(`/t/${other}/audit/stream`);
    expect(response.status(), other).toBe(404);
    expect(await response.json()).toEqual({ error: { code: "not_found", message: "No such tenant." } });
  }

  const bad = await page.request.get(`/t/${slug}/audit/stream?outcome=maybe`);
  expect(bad.status()).toBe(400);
  expect((await bad.json()).error.message).toContain("Choose success, denied or failure.");

  // Signed out: a 401 the page can act on, not a redirect to the sign-in page's HTML.
  const anonymous = await newPage();
  const signedOut = await anonymous.request.get(`/t/${slug}/audit/stream`, { maxRedirects: 0 });
  expect(signedOut.status()).toBe(401);
  expect((await signedOut.json()).error.code).toBe("unauthenticated");
});
