import fs from "node:fs";
import path from "node:path";

// The console's attack surface, read from app/ itself: every page, every route handler with
// its methods, every "use server" file. The isolation matrix (e2e/isolation-matrix.spec.ts,
// tests/integration/isolation-actions.test.ts) keys its cases by these, so a new page, route,
// method or action without a case fails the suite. Plain fs and regular expressions: Playwright
// imports this too, outside Next's bundle.

const ROOT = path.resolve(__dirname, "../..");
const APP = path.join(ROOT, "app");

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
export type Method = (typeof METHODS)[number];

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? walk(full) : [full];
  });
}

/** The URL pattern of a file's folder: route groups dropped, dynamic segments kept (`/t/[slug]/keys/[keyId]`). */
function urlPattern(file: string): string {
  const segments = path
    .relative(APP, path.dirname(file))
    .split(path.sep)
    .filter((s) => s !== "" && !/^\(.*\)$/.test(s));
  return `/${segments.join("/")}`;
}

const appFiles = () => walk(APP).sort();

/** Every page, by URL pattern. */
export function pagePatterns(): string[] {
  return appFiles()
    .filter((f) => path.basename(f) === "page.tsx")
    .map(urlPattern);
}

/** Every route handler as `METHOD /pattern`, from the methods its file exports. */
export function routeEndpoints(): string[] {
  return appFiles()
    .filter((f) => path.basename(f) === "route.ts")
    .flatMap((file) => exportedMethods(fs.readFileSync(file, "utf8")).map((m) => `${m} ${urlPattern(file)}`));
}

function exportedMethods(source: string): Method[] {
  const found = new Set<string>();
  for (const m of source.matchAll(/export\s+(?:async\s+)?(?:function|const|let)\s+([A-Z]+)\b/g)) found.add(m[1]!);
  for (const block of source.matchAll(/export\s*\{([^}]*)\}/g)) {
    for (const part of block[1]!.split(",")) {
      const name = part.trim().split(/\s+as\s+/).pop();
      if (name) found.add(name);
    }
  }
  return METHODS.filter((m) => found.has(m));
}

/** Every file whose first statement is "use server", with its URL pattern and its path from the repository root. */
export function serverActionFiles(): Array<{ file: string; pattern: string }> {
  return appFiles()
    .filter((f) => /\.(ts|tsx)$/.test(f) && /^\s*(?:\/\/[^\n]*\n\s*)*["']use server["']/.test(fs.readFileSync(f, "utf8")))
    .map((file) => ({ file: path.relative(ROOT, file), pattern: urlPattern(file) }));
}

/** Fills a URL pattern's dynamic segments (`[slug]` → values.slug); fails on one it has no value for. */
export function fillPattern(pattern: string, values: Record<string, string>): string {
  return pattern.replace(/\[(?:\.\.\.)?(\w+)\]/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for [${name}] in ${pattern}`);
    return encodeURIComponent(value);
  });
}

/**
 * Every page and route handler that reads its query string, as `page /pattern` or
 * `METHOD /pattern`: a page whose props take `searchParams`, a route handler that reads its
 * request's URL (`searchParams`, `nextUrl`, `request.url`). The hostile-input query suite
 * (tests/integration/hostile-input-query.test.ts) keys its cases by these.
 */
export function queryStringReaders(): string[] {
  const reads = (file: string, pattern: RegExp) => pattern.test(fs.readFileSync(file, "utf8"));
  const files = appFiles();
  const pages = files.filter((f) => path.basename(f) === "page.tsx" && reads(f, /\bsearchParams\b/)).map((f) => `page ${urlPattern(f)}`);
  const routes = files
    .filter((f) => path.basename(f) === "route.ts" && reads(f, /\bsearchParams\b|\bnextUrl\b|\b(?:request|req)\.url\b/))
    .flatMap((file) => exportedMethods(fs.readFileSync(file, "utf8")).map((m) => `${m} ${urlPattern(file)}`));
  return [...pages, ...routes];
}
