import fs from "node:fs";
import path from "node:path";
import AxeBuilder from "@axe-core/playwright";
import type { Page, TestInfo } from "@playwright/test";
import { TEXT_LIMITS } from "../lib/validation/limits";
import { DEMO, type User, addMember, createTenantAsVendor, customerKey, e2eUser, expect, test, uniqueSuffix } from "./fixtures";

// Every page of the console at 390, 768, 1280 and 1920 px, in light and dark: a full-page
// screenshot of each is attached to the report (and kept under test-results/), the page body
// never scrolls sideways, and a table wider than its card scrolls inside the card, with its
// first column sticky. At 1280 px each page also gets an accessibility check (axe-core): no
// serious or critical violation, in either colour scheme. The pages are derived from app/, so
// a new page fails here until it has a visitor and a value for its dynamic segments.

test.describe.configure({ timeout: 300_000 });

const APP_DIR = path.join(__dirname, "../app");
const WIDTHS = [390, 768, 1280, 1920] as const;
const SCHEMES = ["light", "dark"] as const;
const AXE_WIDTH = 1280;

/** Every page.tsx under app/, as its URL pattern: route groups dropped, [segments] kept. */
function pagePatterns(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name === "page.tsx") {
        const segments = path.relative(APP_DIR, dir).split(path.sep).filter((s) => s !== "" && !/^\(.*\)$/.test(s));
        found.push(`/${segments.join("/")}`);
      }
    }
  };
  walk(APP_DIR);
  return found.sort();
}

type Visitor = "anonymous" | "tenant admin" | "vendor admin";
const LAYOUT_ADMIN = e2eUser("layout-admin@wonka.example");
const USERS: Record<Exclude<Visitor, "anonymous">, User> = { "tenant admin": LAYOUT_ADMIN, "vendor admin": DEMO.vendor };

/** Who sees a page: the vendor's pages their admin, the sign-in pages nobody, the rest a tenant's admin. */
function visitorOf(pattern: string): Visitor {
  if (pattern === "/vendor" || pattern.startsWith("/vendor/")) return "vendor admin";
  if (pattern === "/signin" || pattern === "/no-access") return "anonymous";
  return "tenant admin";
}

/** Views that are not pages of their own but change the layout (an event's detail panel). */
const EXTRA_VIEWS = ["/t/[slug]/audit?event=1", "/vendor/audit?event=1"];

/**
 * A tenant with a long name, a registered key, a log sink whose name is as long as names may be
 * (one unbroken word) and a second member; the value of each dynamic route segment.
 */
async function setUp(pageAs: (user: User) => Promise<Page>): Promise<Record<string, string>> {
  const suffix = uniqueSuffix();
  const slug = `wonka-${suffix}`;
  const name = `Wonka Confectionery International Holdings ${suffix}`;
  await createTenantAsVendor(await pageAs(DEMO.vendor), { name, slug, adminEmail: LAYOUT_ADMIN.email });
  const page = await pageAs(LAYOUT_ADMIN);
  await page.goto(`/t/${slug}`);
  const tenantId = (await page.getByText(/^[0-9a-f-]{36}$/).first().textContent())!.trim();

  await page.goto(`/t/${slug}/keys`);
  await page.getByLabel("KMS key ARN").fill(await customerKey({ tenantId, slug }));
  await page.getByRole("button", { name: "Register key" }).click();
  await page.waitForURL(/\/keys\/[0-9a-f-]{36}$/);
  const keyId = page.url().split("/").at(-1)!;

  await page.goto(`/t/${slug}/sinks`);
  await page.getByLabel("Name", { exact: true }).fill("Splunk-production-".repeat(10).slice(0, TEXT_LIMITS.name));
  await page.getByLabel("HTTPS URL").fill("https://localhost:9/layout");
  await page.getByRole("button", { name: "Add log sink" }).click();
  const sinkHref = await page.getByRole("link", { name: "Open it" }).getAttribute("href");
  const sinkId = sinkHref!.split("/").at(-1)!;

  await addMember(page, slug, `oompa-${suffix}@wonka.example`, "auditor");
  return { slug, keyId, sinkId, tenantId };
}

function concrete(pattern: string, values: Record<string, string>): string {
  return pattern.replace(/\[(\.\.\.)?([^\]]+)\]/g, (_match, _rest: string | undefined, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`e2e/console-layout.spec.ts has no value for the route segment [${name}] in ${pattern}`);
    return value;
  });
}

type LayoutProblem = string;

/** What overflows: the page body sideways, or a table cut off by its card or the window. */
function layoutProblems(page: Page): Promise<LayoutProblem[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const root = document.scrollingElement!;
    if (root.scrollWidth > root.clientWidth) {
      const wide = [...document.querySelectorAll("body *")]
        .filter((el) => el.getBoundingClientRect().right > root.clientWidth + 1)
        .filter((el) => !el.parentElement || el.parentElement.getBoundingClientRect().right <= root.clientWidth + 1)
        .slice(0, 3)
        .map((el) => `<${el.tagName.toLowerCase()} class="${el.getAttribute("class") ?? ""}">`);
      problems.push(`the page scrolls sideways (${root.scrollWidth} > ${root.clientWidth} px): ${wide.join(", ")}`);
    }
    const scrolls = (el: Element) => ["auto", "scroll"].includes(getComputedStyle(el).overflowX);
    const clips = (el: Element) => getComputedStyle(el).overflowX !== "visible";
    for (const [i, table] of [...document.querySelectorAll("main table")].entries()) {
      const what = `table ${i + 1} (${[...table.querySelectorAll("th")].map((th) => th.textContent?.trim()).slice(0, 3).join(", ")}…)`;
      // What shows the table: its nearest scrolling ancestor, else the table itself.
      let shown: Element = table;
      for (let el = table.parentElement; el && el !== document.body; el = el.parentElement) {
        if (scrolls(el)) {
          shown = el;
          break;
        }
      }
      const box = shown.getBoundingClientRect();
      if (box.right > root.clientWidth + 1) problems.push(`${what} reaches past the window's right edge`);
      for (let el = shown.parentElement; el && el !== document.body; el = el.parentElement) {
        const outer = el.getBoundingClientRect();
        const boundary = el.getAttribute("data-slot") === "card" || clips(el);
        if (boundary && (box.right > outer.right + 1 || box.left < outer.left - 1)) {
          problems.push(`${what} is cut off by <${el.tagName.toLowerCase()} data-slot="${el.getAttribute("data-slot") ?? ""}">`);
          break;
        }
      }
      if (shown === table && table.getBoundingClientRect().width > 0) {
        problems.push(`${what} has no scrolling container`);
      } else if (shown !== table && table.scrollWidth > shown.clientWidth) {
        const first = table.querySelector("tr > :first-child");
        if (first && getComputedStyle(first).position !== "sticky") problems.push(`${what} scrolls but its first column is not sticky`);
      }
    }
    // Fields side by side in a form row: their inputs line up, whatever help text one has.
    const rows = new Map<Element, Element[]>();
    for (const field of document.querySelectorAll("main [data-slot=form-field]")) {
      if (field.parentElement) rows.set(field.parentElement, [...(rows.get(field.parentElement) ?? []), field]);
    }
    for (const fields of rows.values()) {
      const byLine = new Map<number, number[]>();
      for (const field of fields) {
        const label = field.firstElementChild;
        const control = label?.nextElementSibling;
        if (!label || !control || control.getBoundingClientRect().height === 0) continue;
        const line = Math.round(label.getBoundingClientRect().top);
        byLine.set(line, [...(byLine.get(line) ?? []), control.getBoundingClientRect().top]);
      }
      for (const tops of byLine.values()) {
        if (Math.max(...tops) - Math.min(...tops) > 1) {
          problems.push(`form fields in one row have their inputs at different heights (${fields.map((f) => f.firstElementChild?.textContent).join(", ")})`);
        }
      }
    }
    return problems;
  });
}

async function attachScreenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const file = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: "disabled" });
  await testInfo.attach(name, { path: file, contentType: "image/png" });
}

function screenshotName(url: string, scheme: string, width: number): string {
  const slug = url.replace(/^\//, "").replace(/[^a-z0-9]+/gi, "-").replace(/-+$/, "") || "home";
  return `${slug}.${width}.${scheme}`;
}

let values: Promise<Record<string, string>> | null = null;

for (const scheme of SCHEMES) {
  for (const width of WIDTHS) {
    test(`every page at ${width} px, ${scheme}: screenshots, no sideways scrolling, no clipped table${width === AXE_WIDTH ? ", axe" : ""}`, async ({
      pageAs,
      newPage,
    }, testInfo) => {
      const started = Date.now();
      const patterns = pagePatterns();
      expect(patterns.length).toBeGreaterThanOrEqual(17);
      values ??= setUp(pageAs);
      values.catch(() => (values = null));
      const segments = await values;

      // One browser context per visitor at this width and scheme, signed in once and reused.
      const viewport = { width, height: 900 };
      const pages = new Map<Visitor, Page>();
      const pageFor = async (visitor: Visitor) => {
        let page = pages.get(visitor);
        if (!page) {
          page = visitor === "anonymous" ? await newPage() : await pageAs(USERS[visitor]);
          await page.setViewportSize(viewport);
          await page.emulateMedia({ colorScheme: scheme });
          pages.set(visitor, page);
        }
        return page;
      };

      const urls = [...patterns.map((p) => ({ url: concrete(p, segments), visitor: visitorOf(p) })), ...EXTRA_VIEWS.map((p) => ({ url: concrete(p, segments), visitor: visitorOf(p.split("?")[0]!) }))];
      const axeFindings: string[] = [];
      for (const { url, visitor } of urls) {
        const page = await pageFor(visitor);
        const response = await page.goto(url);
        expect.soft(response?.status() ?? 0, `${url} as ${visitor}`).toBeLessThan(400);
        await expect.soft(page.locator("h1").first(), `${url}: a heading names the page`).toBeVisible();
        await page.waitForLoadState("load");

        await attachScreenshot(page, testInfo, screenshotName(url, scheme, width));
        expect.soft(await layoutProblems(page), `${url} at ${width} px, ${scheme}`).toEqual([]);

        if (width === AXE_WIDTH) {
          const result = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
          for (const violation of result.violations) {
            if (violation.impact !== "serious" && violation.impact !== "critical") continue;
            const targets = violation.nodes.slice(0, 4).map((n) => `${n.target.join(" ")}${n.failureSummary ? ` (${n.failureSummary.split("\n").slice(1, 2).join("").trim()})` : ""}`);
            axeFindings.push(`${url}: ${violation.id} [${violation.impact}] ${violation.help} — ${targets.join("; ")}`);
          }
        }
      }
      if (width === AXE_WIDTH) expect.soft(axeFindings, `axe, ${scheme}`).toEqual([]);
      testInfo.annotations.push({ type: "duration", description: `${urls.length} views in ${((Date.now() - started) / 1000).toFixed(1)} s` });
      console.log(`layout ${width} px ${scheme}: ${urls.length} views in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    });
  }
}

test("after signing a checkpoint, the section's buttons stay side by side on one line", async ({ pageAs }, testInfo) => {
  values ??= setUp(pageAs);
  values.catch(() => (values = null));
  const { slug } = await values;
  const page = await pageAs(LAYOUT_ADMIN);
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`/t/${slug}/audit/integrity`);
    await page.getByRole("button", { name: "Sign checkpoint now" }).click();
    await expect(page.getByText(/^Signed a checkpoint of event #\d+\.$/)).toBeVisible();
    await attachScreenshot(page, testInfo, `checkpoint-signed.${width}`);
    expect(await layoutProblems(page)).toEqual([]);
    if (width < 768) continue; // narrower, they may wrap onto two lines
    const download = await page.getByRole("link", { name: "Download public key" }).boundingBox();
    const sign = await page.getByRole("button", { name: "Sign checkpoint now" }).boundingBox();
    expect(Math.abs(download!.y - sign!.y), `${width} px: the two buttons' tops`).toBeLessThanOrEqual(1);
    expect(Math.abs(download!.height - sign!.height), `${width} px: the two buttons' heights`).toBeLessThanOrEqual(1);
  }
});
