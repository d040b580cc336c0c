// lib/config is the only reader of the process environment: every other module gets Custody's
// settings from the typed configuration (getConfig(), or a Config passed in). Tests, the
// Playwright files and the tool configurations read their own variables (E2E_PORT, PG_BINDIR…).
const message = "Read settings from lib/config (getConfig() or a Config passed in); only lib/config reads process.env.";

export const environmentBoundary = [
  {
    files: ["**/*.{ts,tsx,js,mjs,cjs}"],
    ignores: ["lib/config/**", "**/*.test.ts", "tests/**", "e2e/**", "playwright.config.ts", "prisma.config.ts", "vitest.config.*", "eslint/**", "eslint.config.mjs"],
    rules: {
      // Also catches process["env"] and const { env } = process. (`import { env } from "node:process"`
      // is caught by lib/config/environment-boundary.test.ts: no-restricted-syntax and
      // no-restricted-imports are the lib/dev boundary's, and a second setting would replace it.)
      "no-restricted-properties": ["error", { object: "process", property: "env", message }],
    },
  },
];
