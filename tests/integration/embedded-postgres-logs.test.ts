import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it, vi } from "vitest";
import { freePort } from "../helpers/net";
import { startEmbeddedPostgres } from "@/lib/db/embedded";

// What `npm start` prints of the embedded PostgreSQL's own log while it runs and stops: a
// statement the application refuses on purpose (a taken unique name) and the connections a
// fast shutdown ends are the application's business, not raw server lines on the console.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "custody-embedded-logs-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("the embedded PostgreSQL's output", () => {
  it("stays quiet about refused statements and about the connections shutdown ends", async () => {
    const lines: string[] = [];
    const db = await startEmbeddedPostgres({ dataDir: path.join(dir, "pgdata"), port: await freePort(), log: (line) => lines.push(line) });
    const clients = [new pg.Client({ connectionString: db.databaseUrl }), new pg.Client({ connectionString: db.databaseUrl })];
    try {
      for (const client of clients) {
        client.on("error", () => {});
        await client.connect();
      }
      await clients[0]!.query("CREATE TABLE tenants (slug text UNIQUE)");
      await clients[0]!.query("INSERT INTO tenants VALUES ('acme')");
      await expect(clients[0]!.query("INSERT INTO tenants VALUES ('acme')")).rejects.toMatchObject({ code: "23505" });
    } finally {
      // Stopped with both clients still connected, as Ctrl-C finds the application's pools.
      await db.stop();
    }
    expect(lines.some((line) => line.startsWith("Embedded PostgreSQL 17 listening"))).toBe(true);
    expect(lines.filter((line) => /ERROR|FATAL|duplicate key|terminating connection/.test(line))).toEqual([]);
  });

  it("stays quiet when something else stops the server, as the package's own hook does on Ctrl-C", async () => {
    const lines: string[] = [];
    const dataDir = path.join(dir, "pgdata");
    const db = await startEmbeddedPostgres({ dataDir, port: await freePort(), log: (line) => lines.push(line) });
    const client = new pg.Client({ connectionString: db.databaseUrl });
    client.on("error", () => {});
    await client.connect();
    const started = lines.length;
    const pid = Number(fs.readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    process.kill(pid, "SIGINT"); // PostgreSQL's fast shutdown, requested from outside
    await vi.waitFor(() => expect(fs.existsSync(path.join(dataDir, "postmaster.pid"))).toBe(false), { timeout: 30_000, interval: 100 });
    await db.stop();
    await client.end().catch(() => {});
    expect(lines.slice(started)).toEqual([]);
  });
});
