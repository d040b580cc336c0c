import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Two projects: unit tests sit beside the domain code; integration tests run against a
// real PostgreSQL (TEST_DATABASE_URL, a fresh database per test file) and real servers.
const root = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      "@": root,
      // Tests run domain code outside React's server bundle, where server-only throws.
      "server-only": path.join(root, "node_modules/server-only/empty.js"),
    },
  },
  test: {
    // Two test files at a time. Vitest's default on a two-core machine is one (cores - 1), but
    // most integration files spend much of their time waiting (on PostgreSQL, on a key service
    // or development server starting in another process, on a client timeout running out), and
    // each has its own database and loopback ports, so a second file fills that time. Both
    // projects share the value: Vitest runs projects with different worker counts in separate
    // groups, one after the other.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        // Timeouts are backstops against a hang, not performance limits: generous, because CI
        // runs on a busy two-core machine where everything takes several times longer.
        test: { name: "unit", include: ["lib/**/*.test.ts"], environment: "node", testTimeout: 20_000 },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
