import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "./net";
import pg from "pg";

// A PostgreSQL server of the test's own, for tests that restart, stop or crash it: initdb into a
// temporary folder, its own port on 127.0.0.1, track_commit_timestamp on (so a test can check
// that each event committed before its answer left). The shared server on 5432 is never touched.
// As root (CI), the server runs as the `postgres` user, since PostgreSQL refuses to run as root.

const run = promisify(execFile);

function binDir(): string {
  if (process.env.PG_BINDIR) return process.env.PG_BINDIR;
  const root = "/usr/lib/postgresql";
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  if (versions.length === 0) throw new Error("No PostgreSQL server binaries found under /usr/lib/postgresql (set PG_BINDIR).");
  return path.join(root, versions[0]!, "bin");
}

export type ShutdownMode = "fast" | "immediate";

export class PrivatePostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
    private readonly asPostgres: boolean,
  ) {}

  /** initdb and start; resolves once the server accepts connections. */
  static async start(): Promise<PrivatePostgres> {
    const asPostgres = process.getuid?.() === 0;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "custody-pg-"));
    if (asPostgres) {
      const { stdout } = await run("id", ["-u", "postgres"]);
      const { stdout: gid } = await run("id", ["-g", "postgres"]);
      fs.chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
    }
    const server = new PrivatePostgres(dir, await freePort(), binDir(), asPostgres);
    const data = path.join(dir, "data");
    await server.pg("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"]);
    fs.appendFileSync(
      path.join(data, "postgresql.conf"),
      [
        `port = ${server.port}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${dir}'`,
        "track_commit_timestamp = on",
        // Nothing here outlives the test: no need to wait for the disk. (An immediate shutdown is
        // a crash of PostgreSQL, not of the machine: the WAL in the page cache survives it.)
        "fsync = off",
        "full_page_writes = off",
        "shared_buffers = 32MB",
        "max_connections = 60",
        "",
      ].join("\n"),
    );
    await server.startServer();
    return server;
  }

  /**
   * A streaming replica of this server (pg_basebackup -R into a folder of its own, a second
   * postmaster on a free port, hot standby): read-only, replaying this server's WAL as it comes.
   */
  async replica(): Promise<PrivatePostgres> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "custody-pg-replica-"));
    if (this.asPostgres) fs.chownSync(dir, fs.statSync(this.dir).uid, fs.statSync(this.dir).gid);
    const replica = new PrivatePostgres(dir, await freePort(), this.bin, this.asPostgres);
    const data = path.join(dir, "data");
    await replica.pg("pg_basebackup", ["-h", "127.0.0.1", "-p", String(this.port), "-U", "postgres", "-D", data, "-R", "-X", "stream", "--no-sync", "--checkpoint=fast"]);
    // Later lines win: the copied postgresql.conf still names the primary's port and socket folder.
    fs.appendFileSync(
      path.join(data, "postgresql.conf"),
      [`port = ${replica.port}`, `unix_socket_directories = '${dir}'`, "hot_standby = on", ""].join("\n"),
    );
    await replica.startServer();
    return replica;
  }

  /** A connection URL for a database on this server. */
  url(database = "postgres"): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async createDatabase(name: string): Promise<string> {
    const client = new pg.Client({ connectionString: this.url() });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    } finally {
      await client.end();
    }
    return this.url(name);
  }

  /** Stops the server; `immediate` is a crash (recovery on the next start). */
  async stop(mode: ShutdownMode = "fast"): Promise<void> {
    await this.pg("pg_ctl", ["-D", path.join(this.dir, "data"), "-m", mode, "-w", "stop"]);
  }

  /** Starts a stopped server; resolves once it accepts connections. */
  async startServer(): Promise<void> {
    await this.pg("pg_ctl", ["-D", path.join(this.dir, "data"), "-l", path.join(this.dir, "server.log"), "-w", "-t", "60", "start"]);
  }

  /** Stops and starts the server; returns when it went down and when it accepted connections again. */
  async restart(mode: ShutdownMode): Promise<{ downAt: number; upAt: number }> {
    const downAt = Date.now();
    await this.stop(mode);
    await this.startServer();
    return { downAt, upAt: Date.now() };
  }

  async close(): Promise<void> {
    await this.stop("immediate").catch(() => {});
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private async pg(tool: string, args: string[]): Promise<void> {
    const command = path.join(this.bin, tool);
    try {
      if (this.asPostgres) await run("runuser", ["-u", "postgres", "--", command, ...args], { cwd: "/" });
      else await run(command, args);
    } catch (error) {
      const log = path.join(this.dir, "server.log");
      const tail = fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").slice(-20).join("\n") : "";
      throw new Error(`${tool} ${args.join(" ")} failed: ${(error as Error).message}\n${tail}`);
    }
  }
}
