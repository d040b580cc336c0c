import { execFileSync } from "node:child_process";
import fs from "node:fs";
import pg from "pg";

// CPU time per operation, for the benchmarks: throughput on a shared 2-core machine swings
// with everyone else's load, the CPU a process spends per request does not. Read from /proc
// (Linux): utime + stime of the measured processes, in clock ticks, before and after a run.
// "The service" is the key-service processes' pids; "PostgreSQL" is the backends serving
// them, found by application_name in pg_stat_activity (the server must be on this machine).

let ticksPerSecond: number | null = null;

function clockTicks(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU time of a process so far, in µs; null if it is gone (or there is no /proc). */
export function processCpuMicros(pid: number): number | null {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1_000_000) / clockTicks();
}

/** A process and its descendants (a key service's cluster workers), by scanning /proc; just the pid without /proc. */
export function processTree(pid: number): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return [pid];
  }
  const children = new Map<number, number[]>();
  for (const name of entries) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue;
    }
    // Field 4 (ppid) is the second after the parenthesised command name.
    const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    children.set(parent, [...(children.get(parent) ?? []), Number(name)]);
  }
  const tree: number[] = [];
  const visit = (p: number) => {
    tree.push(p);
    for (const child of children.get(p) ?? []) visit(child);
  };
  visit(pid);
  return tree;
}

/** The pids of the backends a database's clients with these application names are served by. */
export async function backendPids(databaseUrl: string, applicationNames: string[]): Promise<number[]> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: "custody-bench-cpu" });
  client.on("error", () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = ANY($1::text[]) AND pid <> pg_backend_pid()",
      [applicationNames],
    );
    return rows.map((r) => r.pid);
  } finally {
    await client.end().catch(() => {});
  }
}

export type CpuSample = { service: Map<number, number>; database: Map<number, number> };
export type CpuSpent = { serviceMicros: number; databaseMicros: number; totalMicros: number };

/** What the key-service processes (by pid) and their database backends (by application name) have spent so far. */
export class CpuMeter {
  constructor(
    private readonly databaseUrl: string,
    private readonly servicePids: () => number[],
    private readonly applicationNames: string[],
  ) {}

  async sample(): Promise<CpuSample> {
    const read = (pids: number[]) => new Map(pids.flatMap((pid) => {
      const micros = processCpuMicros(pid);
      return micros === null ? [] : [[pid, micros] as const];
    }));
    return { service: read(this.servicePids()), database: read(await backendPids(this.databaseUrl, this.applicationNames)) };
  }

  /**
   * CPU spent between two samples. A process present only in `after` (a backend connected
   * during the run) counts from zero; one that ended during the run is lost (an undercount the
   * pools' long-lived connections make rare).
   */
  static spent(before: CpuSample, after: CpuSample): CpuSpent {
    const delta = (a: Map<number, number>, b: Map<number, number>) => [...b].reduce((sum, [pid, micros]) => sum + (micros - (a.get(pid) ?? 0)), 0);
    const serviceMicros = delta(before.service, after.service);
    const databaseMicros = delta(before.database, after.database);
    return { serviceMicros, databaseMicros, totalMicros: serviceMicros + databaseMicros };
  }
}
