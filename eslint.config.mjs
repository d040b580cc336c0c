import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";
import { environmentBoundary } from "./eslint/environment-boundary.mjs";

const DATA_LAYER_ONLY = {
  group: ["@/lib/db", "@/lib/db/*", "@/lib/db/**"],
  allowTypeImports: true,
  message: "Use a lib/ domain function; only lib/** uses the Prisma client.",
};
const DEV_MESSAGE = "lib/dev (development servers, demo) is for scripts/ and tests/ only; production code takes what it needs as a parameter (see lib/server/demo-mode.ts).";
const NOT_DEV = {
  group: ["@/lib/dev", "@/lib/dev/**", "**/lib/dev", "**/lib/dev/**", "./dev", "./dev/**", "../dev", "../dev/**", "../../dev", "../../dev/**"],
  message: DEV_MESSAGE,
};
/** import("…lib/dev/…"), which no-restricted-imports does not look at. */
const NO_DEV_DYNAMIC_IMPORT = {
  selector: "ImportExpression[source.value=/^(@\\/lib\\/dev|.*\\/lib\\/dev|(\\.\\.?\\/)+dev)(\\/|$)/]",
  message: DEV_MESSAGE,
};

const config = [
  ...nextVitals,
  ...nextTs,
  {
    ignores: [".next/**", "node_modules/**", "lib/db/generated/**", ".custody/**", "test-results/**", "playwright-report/**", "next-env.d.ts"],
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true }],
    },
  },
  {
    // Only the data layer talks to the database; production code never reaches lib/dev.
    files: ["app/**", "components/**"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [DATA_LAYER_ONLY, NOT_DEV] }],
      "no-restricted-syntax": ["error", NO_DEV_DYNAMIC_IMPORT],
    },
  },
  {
    // The development servers and the demo (lib/dev) are composed in by the start scripts
    // (scripts/start.ts): scripts/, tests/, e2e/ and lib/dev itself may import them.
    files: ["lib/**", "proxy.ts", "instrumentation.ts"],
    // A KMS provider's contract-test harness (tests only) starts its development server.
    ignores: ["lib/dev/**", "lib/kms/providers/*/contract-harness.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [NOT_DEV] }],
      "no-restricted-syntax": ["error", NO_DEV_DYNAMIC_IMPORT],
    },
  },
  ...environmentBoundary,
];

export default config;
