import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { childEnvironment } from "@/lib/config/environment";

// What `next build` reads. Hashed by content, not compared by time: `npm install` rewrites
// package-lock.json and `prisma generate` rewrites generated files without changing a byte
// that matters, and a build is a minute or more.
const SOURCES = ["app", "components", "lib", "public", "proxy.ts", "prisma/schema.prisma", "next.config.ts", "postcss.config.mjs", "package-lock.json", "tsconfig.json"];
const SKIP = new Set(["node_modules", ".next", "generated"]);
/** Beside BUILD_ID: the hash of the inputs the build in .next was made from. */
export const BUILD_STAMP = "custody-build-inputs";

function addInputs(hash: ReturnType<typeof createHash>, dir: string, entry: string): void {
  const full = path.join(dir, entry);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(full);
  } catch {
    return;
  }
  if (stat.isDirectory()) {
    for (const child of fs.readdirSync(full).sort()) {
      // Tests beside the code are type-checked by the build but change nothing it produces.
      if (!SKIP.has(child) && !/\.test\.tsx?$/.test(child)) addInputs(hash, dir, path.posix.join(entry, child));
    }
    return;
  }
  // Each file's path and length go in before its bytes, so no two trees hash alike.
  hash.update(`${entry}\0${stat.size}\0`);
  hash.update(fs.readFileSync(full));
}

/** The hash of everything the build depends on in `dir`. */
export function buildInputsHash(dir: string): string {
  const hash = createHash("sha256");
  for (const source of SOURCES) addInputs(hash, dir, source);
  return hash.digest("hex");
}

/** `next build` in a child process, with `values` added to its environment. */
export function nextBuild(dir: string, values: Readonly<Record<string, string | undefined>> = {}): void {
  const result = spawnSync(process.execPath, [require.resolve("next/dist/bin/next"), "build"], {
    cwd: dir,
    stdio: "inherit",
    env: childEnvironment({ ...values, NEXT_TELEMETRY_DISABLED: "1" }),
  });
  if (result.status !== 0) throw new Error("next build failed (see the output above)");
}

/**
 * Runs `next build` when there is no production build or its inputs changed since it was made,
 * then records the inputs' hash in .next. `build` is replaceable for tests.
 */
export function ensureBuild(dir: string, log: (line: string) => void, build: (dir: string) => void = nextBuild): void {
  const stamp = path.join(dir, ".next", BUILD_STAMP);
  const built = fs.existsSync(path.join(dir, ".next", "BUILD_ID"));
  const inputs = buildInputsHash(dir);
  if (built && fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8").trim() === inputs) return;
  log(built ? "Sources changed since the last build: rebuilding…" : "Building Custody (first start, about a minute)…");
  build(dir);
  // The hash from before the build: a file edited while it ran makes the next start rebuild.
  fs.writeFileSync(stamp, `${inputs}\n`);
}
