import type { Page } from "@playwright/test";
import { formatDateTime } from "../lib/utils/format-date-time";
import { DEMO, expect, test } from "./fixtures";

// The console follows the system's light or dark preference, and writes every date one way:
// in the viewer's time zone with its UTC offset, the exact UTC time on hover.

/** Relative luminance (0 black … 1 white) of an element's computed colour, whatever its CSS syntax. */
async function luminance(page: Page, selector: string, property: "color" | "backgroundColor"): Promise<number> {
  return page.evaluate(
    ({ sel, prop }) => {
      const value = getComputedStyle(document.querySelector(sel)!)[prop];
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = 1;
      const ctx = canvas.getContext("2d")!;
      ctx.fillStyle = value;
      ctx.fillRect(0, 0, 1, 1);
      const [r, g, b] = [...ctx.getImageData(0, 0, 1, 1).data].map((c) => {
        const s = c / 255;
        return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    },
    { sel: selector, prop: property },
  );
}

test("the console follows the system's dark preference, and stays light otherwise", async ({ pageAs }) => {
  const page = await pageAs(DEMO.acmeAdmin);
  for (const path of ["/t/acme", "/t/acme/keys", "/t/acme/audit"]) {
    await page.emulateMedia({ colorScheme: "dark" });
    await page.goto(path);
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    expect(await luminance(page, "body", "backgroundColor"), `${path} background, dark`).toBeLessThan(0.05);
    expect(await luminance(page, "h1", "color"), `${path} heading, dark`).toBeGreaterThan(0.7);
    expect(await luminance(page, "header", "backgroundColor"), `${path} top bar, dark`).toBeLessThan(0.1);

    await page.emulateMedia({ colorScheme: "light" });
    expect(await luminance(page, "body", "backgroundColor"), `${path} background, light`).toBeGreaterThan(0.9);
    expect(await luminance(page, "h1", "color"), `${path} heading, light`).toBeLessThan(0.05);
  }
});

test("dates show in the viewer's time zone with its offset, and the exact UTC time on hover", async ({ pageAs }) => {
  const page = await pageAs(DEMO.acmeAdmin, { timezoneId: "Asia/Kolkata" });
  await page.goto("/t/acme/audit");
  const first = page.locator("main time").first();
  await expect(first).toHaveText(/^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}(:\d{2})? UTC\+5:30$/);
  const exact = await first.getAttribute("title");
  expect(exact).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  const text = (await first.textContent()) ?? "";
  expect(text).toBe(formatDateTime(new Date(exact!), { offsetMinutes: 330, withSeconds: /:\d{2}:\d{2} /.test(text) }));
});
