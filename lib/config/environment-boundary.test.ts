import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

// lib/config is the only reader of the environment (ESLint's environment boundary catches
// process.env; this also catches importing `env` from node:process, which it cannot).
const ROOT = path.resolve(__dirname, "../..");
const READS_ENVIRONMENT = /\bprocess\s*\.\s*env\b|\bprocess\s*\[\s*["'`]env|from\s+["'](node:)?process["']|require\(\s*["'](node:)?process["']\s*\)/;

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) return ["generated", "node_modules"].includes(entry.name) ? [] : sources(relative);
    return /\.(ts|tsx|mjs|js)$/.test(entry.name) && !entry.name.endsWith(".test.ts") ? [relative] : [];
  });
}

describe("the environment boundary", () => {
  it("lets no module outside lib/config read the process environment", () => {
    const files = [...["lib", "app", "components", "scripts"].flatMap(sources), "proxy.ts", "instrumentation.ts"].filter((file) => !file.startsWith(`lib${path.sep}config${path.sep}`));
    expect(files.length).toBeGreaterThan(100);
    const readers = files.filter((file) => READS_ENVIRONMENT.test(fs.readFileSync(path.join(ROOT, file), "utf8")));
    expect(readers).toEqual([]);
  });

  it("would notice one", () => {
    expect(READS_ENVIRONMENT.test('import { env } from "node:process";')).toBe(true);
    expect(READS_ENVIRONMENT.test("const port = process.env.PORT;")).toBe(true);
    expect(READS_ENVIRONMENT.test('const { PORT } = process["env"];')).toBe(true);
    expect(READS_ENVIRONMENT.test("const config = getConfig();")).toBe(false);
  });
});
