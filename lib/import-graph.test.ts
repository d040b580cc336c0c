import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The module graph of lib/, read from the sources: no file imports itself back through others,
// and the arrows between the modules named below point one way only (lib/authz holds the
// caller and authorisation core, so lib/audit and lib/tenants need not import each other).

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)|(?:^|\n)\s*import\s+"([^"]+)"/g;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "generated" ? [] : sourceFiles(full);
    return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) ? [full] : [];
  });
}

function resolve(from: string, specifier: string): string | null {
  const base = specifier.startsWith("@/") ? path.join(root, specifier.slice(2)) : specifier.startsWith(".") ? path.resolve(path.dirname(from), specifier) : null;
  if (!base) return null;
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, path.join(base, "index.ts")]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return null;
}

function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(path.join(root, "lib"))) {
    const text = fs.readFileSync(file, "utf8");
    const targets = [...text.matchAll(IMPORT)].map((m) => resolve(file, (m[1] ?? m[2] ?? m[3])!)).filter((t): t is string => t !== null);
    graph.set(file, targets);
  }
  return graph;
}

/** Every cycle's files, found by depth-first search (one per back edge). */
function cyclesOf(graph: Map<string, string[]>): string[][] {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === "open") cycles.push(stack.slice(stack.indexOf(next)).map((f) => path.relative(root, f)));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

const moduleOf = (file: string) => path.relative(path.join(root, "lib"), file).split(path.sep)[0]!;

describe("lib's import graph", () => {
  const graph = importGraph();

  it("has no import cycle between the caller/authorisation core, tenants and audit", () => {
    const watched = new Set(["authz", "tenants", "audit"]);
    const cycles = cyclesOf(graph).filter((cycle) => cycle.some((file) => watched.has(moduleOf(path.join(root, file)))));
    expect(cycles).toEqual([]);
  });

  it("keeps lib/audit and lib/authz from importing lib/tenants", () => {
    const offending = [...graph].flatMap(([file, targets]) =>
      ["audit", "authz"].includes(moduleOf(file)) ? targets.filter((t) => moduleOf(t) === "tenants").map((t) => `${path.relative(root, file)} -> ${path.relative(root, t)}`) : [],
    );
    expect(offending).toEqual([]);
  });

  it("finds a cycle when there is one (the check can fail)", () => {
    const a = path.join(root, "lib/a.ts");
    const b = path.join(root, "lib/b.ts");
    expect(cyclesOf(new Map([[a, [b]], [b, [a]]]))).toEqual([["lib/a.ts", "lib/b.ts"]]);
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get(path.join(root, "lib/tenants/members.ts"))).toContain(path.join(root, "lib/authz/index.ts"));
  });
});
