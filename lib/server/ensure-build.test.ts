import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ensureBuild } from "./ensure-build";

let dir: string;
let builds: number;
let logged: string[];
const fakeBuild = (at: string) => {
  builds += 1;
  fs.mkdirSync(path.join(at, ".next"), { recursive: true });
  fs.writeFileSync(path.join(at, ".next", "BUILD_ID"), `build-${builds}`);
};
const write = (file: string, content: string, mtime?: Date) => {
  fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  fs.writeFileSync(path.join(dir, file), content);
  if (mtime) fs.utimesSync(path.join(dir, file), mtime, mtime);
};
const start = () => ensureBuild(dir, (line) => logged.push(line), fakeBuild);

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "custody-build-"));
  builds = 0;
  logged = [];
  write("app/page.tsx", "export default function Page() { return null; }\n");
  write("lib/db/generated/client.ts", "// generated\n");
  write("package-lock.json", '{"lockfileVersion":3}\n');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("ensureBuild", () => {
  it("builds on the first start and not on the second", () => {
    start();
    expect(builds).toBe(1);
    expect(logged).toEqual(["Building Custody (first start, about a minute)…"]);
    start();
    expect(builds).toBe(1);
  });

  it("does not rebuild after npm install rewrote the lockfile and generated files unchanged", () => {
    start();
    const later = new Date(Date.now() + 60_000);
    write("package-lock.json", '{"lockfileVersion":3}\n', later);
    write("lib/db/generated/client.ts", "// generated again\n", later);
    fs.utimesSync(path.join(dir, "app"), later, later);
    start();
    expect(builds).toBe(1);
  });

  it("rebuilds when a source, the lockfile or a new file changes what is built", () => {
    start();
    write("app/page.tsx", "export default function Page() { return 'changed'; }\n");
    start();
    expect(builds).toBe(2);
    expect(logged.at(-1)).toBe("Sources changed since the last build: rebuilding…");
    write("package-lock.json", '{"lockfileVersion":3,"packages":{}}\n');
    start();
    write("public/icon.svg", "<svg/>");
    start();
    expect(builds).toBe(4);
    start();
    expect(builds).toBe(4);
  });

  it("rebuilds on the next start when a source was edited while the build ran", () => {
    ensureBuild(dir, () => {}, (at) => {
      fakeBuild(at);
      write("app/page.tsx", "export default function Page() { return 'edited during the build'; }\n");
    });
    start();
    expect(builds).toBe(2);
    start();
    expect(builds).toBe(2);
  });

  it("does not rebuild for a changed unit test beside the code", () => {
    write("lib/x.test.ts", "it('a', () => {});\n");
    start();
    write("lib/x.test.ts", "it('b', () => {});\n");
    start();
    expect(builds).toBe(1);
  });

  it("rebuilds when .next lost its build or a build failed half way", () => {
    start();
    fs.rmSync(path.join(dir, ".next", "BUILD_ID"));
    start();
    expect(builds).toBe(2);
    write("app/page.tsx", "broken");
    expect(() => ensureBuild(dir, () => {}, () => { throw new Error("next build failed"); })).toThrow("next build failed");
    start();
    expect(builds).toBe(3);
  });
});
