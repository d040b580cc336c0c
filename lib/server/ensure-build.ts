import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const SOURCES = ["app", "components", "lib", "public", "proxy.ts", "prisma/schema.prisma", "next.config.ts", "postcss.config.mjs", "package-lock.json", "tsconfig.json"];
const SKIP = new Set(["node_modules", ".next", "generated"]);

function newestMtime(entry: string): number {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(entry);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const child of fs.readdirSync(entry)) {
    if (!SKIP.has(child)) newest = Math.max(newest, newestMtime(path.join(entry, child)));
  }
  return newest;
}

/** Runs `next build` when there is no production build or a source file is newer than it. */
export function ensureBuild(dir: string, log: (line: string) => void): void {
  const buildId = path.join(dir, ".next", "BUILD_ID");
  const builtAt = fs.existsSync(buildId) ? fs.statSync(buildId).mtimeMs : 0;
  const changedAt = Math.max(...SOURCES.map((s) => newestMtime(path.join(dir, s))));
  if (builtAt > changedAt) return;
  log(builtAt === 0 ? "Building Custody (first start, about a minute)…" : "Sources changed since the last build: rebuilding…");
  const result = spawnSync(process.execPath, [require.resolve("next/dist/bin/next"), "build"], {
    cwd: dir,
    stdio: "inherit",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (result.status !== 0) throw new Error("next build failed (see the output above)");
}
