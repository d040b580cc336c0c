import { spawn } from "node:child_process";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CpuMeter, processTree } from "../helpers/cpu";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

// The benchmark judges targets by CPU per operation (tests/helpers/cpu.ts). This checks that the
// meter counts the processes it is pointed at, and only those: a child that burns a known amount
// of CPU, an idle one beside it, and PostgreSQL backends picked out by application name.

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
});

/**
 * A node child that, on each line on stdin, burns `ms` of its own CPU time and prints its
 * cpuUsage (µs); `viaParent`: the burner is the child of an idle node process (as a cluster
 * worker is of its primary), and `child` is that parent.
 */
function burner(viaParent = false) {
  const code = `
    const usage = () => { const u = process.cpuUsage(); return u.user + u.system; };
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (line) => {
      const target = usage() + Number(line) * 1000;
      while (usage() < target) {}
      console.log("used " + usage());
    });
    process.stdin.on("end", () => process.exit(0));
    console.log("used " + usage());`;
  const parent = `require("node:child_process").spawn(process.execPath, ["-e", ${JSON.stringify(code)}], { stdio: "inherit" })`;
  const child = spawn(process.execPath, ["-e", viaParent ? parent : code], { stdio: ["pipe", "pipe", "inherit"] });
  const lines: string[] = [];
  let waiting: (() => void) | null = null;
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    lines.push(...chunk.trim().split("\n"));
    waiting?.();
  });
  const next = async (): Promise<number> => {
    while (lines.length === 0) await new Promise<void>((resolve) => (waiting = resolve));
    return Number(lines.shift()!.split(" ")[1]);
  };
  return { child, next, burn: (ms: number) => child.stdin.write(`${ms}\n`) };
}

describe("CPU accounting for the benchmark", () => {
  it("counts the CPU a measured process spends, and none of a process beside it", async () => {
    const busy = burner();
    const idle = burner();
    try {
      await Promise.all([busy.next(), idle.next()]);
      const meter = new CpuMeter(database.url, () => [busy.child.pid!], []);
      const bystander = new CpuMeter(database.url, () => [idle.child.pid!], []);
      const [before, bystanderBefore] = [await meter.sample(), await bystander.sample()];
      busy.burn(0);
      const start = await busy.next();
      busy.burn(400);
      const burned = (await busy.next()) - start;
      const spent = CpuMeter.spent(before, await meter.sample()).serviceMicros;
      const bystanderSpent = CpuMeter.spent(bystanderBefore, await bystander.sample()).serviceMicros;
      // The child's own clock (process.cpuUsage) against /proc's, which counts in 10 ms ticks; the
      // margin above covers the little the child spends outside the burn (reading, printing).
      expect(burned).toBeGreaterThanOrEqual(400_000);
      expect(spent).toBeGreaterThanOrEqual(burned - 30_000);
      expect(spent).toBeLessThan(burned + 150_000);
      expect(bystanderSpent).toBeLessThan(50_000);
    } finally {
      busy.child.kill();
      idle.child.kill();
    }
  });

  it("counts the CPU of a process's children (a key service's workers) through processTree", async () => {
    const primary = burner(true);
    try {
      await primary.next();
      const meter = new CpuMeter(database.url, () => processTree(primary.child.pid!), []);
      const alone = new CpuMeter(database.url, () => [primary.child.pid!], []);
      const [before, aloneBefore] = [await meter.sample(), await alone.sample()];
      primary.burn(0);
      const start = await primary.next();
      primary.burn(400);
      const burned = (await primary.next()) - start;
      expect(burned).toBeGreaterThanOrEqual(400_000);
      expect(CpuMeter.spent(before, await meter.sample()).serviceMicros).toBeGreaterThanOrEqual(burned - 30_000);
      // The parent alone did not burn it.
      expect(CpuMeter.spent(aloneBefore, await alone.sample()).serviceMicros).toBeLessThan(50_000);
    } finally {
      primary.child.stdin.end();
      primary.child.kill();
    }
  });

  it("counts the PostgreSQL backends of the named connections, and not the others", async () => {
    const busy = new pg.Client({ connectionString: database.url, application_name: "cpu-test-busy" });
    const idle = new pg.Client({ connectionString: database.url, application_name: "cpu-test-idle" });
    await Promise.all([busy.connect(), idle.connect()]);
    try {
      const busyMeter = new CpuMeter(database.url, () => [], ["cpu-test-busy"]);
      const idleMeter = new CpuMeter(database.url, () => [], ["cpu-test-idle"]);
      const [busyBefore, idleBefore] = [await busyMeter.sample(), await idleMeter.sample()];
      expect(busyBefore.database.size).toBe(1);
      await busy.query("SELECT count(*) FROM generate_series(1, 4000000)");
      const busySpent = CpuMeter.spent(busyBefore, await busyMeter.sample()).databaseMicros;
      const idleSpent = CpuMeter.spent(idleBefore, await idleMeter.sample()).databaseMicros;
      expect(busySpent).toBeGreaterThan(100_000);
      expect(idleSpent).toBeLessThan(30_000);
    } finally {
      await Promise.all([busy.end(), idle.end()]);
    }
  });
});
