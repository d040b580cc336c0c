// Adds up the Vitest, Playwright, secrets scan, benchmark smoke and demo smoke results into one closing line.
import fs from "node:fs";
import path from "node:path";

const dir = process.argv[2];
const read = (name) => {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, name), "utf8"));
  } catch {
    return null;
  }
};

let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];

const vitest = read("vitest.json");
if (vitest) {
  passed += vitest.numPassedTests;
  failed += vitest.numFailedTests + (vitest.numRuntimeErrors ?? 0);
  skipped += vitest.numPendingTests + vitest.numTodoTests;
} else missing.push("vitest");

// The same Vitest suite on Node 22, when .ci/run ran it (not part of npm test).
const node22 = read("vitest-node22.json");
if (node22) {
  passed += node22.numPassedTests;
  failed += node22.numFailedTests + (node22.numRuntimeErrors ?? 0);
  skipped += node22.numPendingTests + node22.numTodoTests;
}

const playwright = read("playwright.json");
if (playwright?.stats) {
  passed += playwright.stats.expected + playwright.stats.flaky;
  failed += playwright.stats.unexpected;
  skipped += playwright.stats.skipped;
} else missing.push("playwright");

const smoke = read("smoke.json");
if (smoke) {
  passed += smoke.passed;
  failed += smoke.failed;
} else missing.push("smoke");

const bench = read("bench-status.json");
if (bench) {
  passed += bench.passed;
  failed += bench.failed;
} else missing.push("bench");

const scan = read("secrets-scan.json");
if (scan) {
  passed += scan.passed;
  failed += scan.failed;
} else missing.push("secrets scan");

if (missing.length) console.log(`missing results from: ${missing.join(", ")}`);
console.log(`Total: ${passed} passed, ${failed + missing.length} failed, ${skipped} skipped`);
process.exit(failed + missing.length > 0 || passed === 0 ? 1 : 0);
