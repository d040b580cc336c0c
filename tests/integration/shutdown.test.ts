import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KeyServiceFixture } from "../helpers/key-service";
import { startPrivateKeyServiceDatabase } from "../helpers/private-key-service-database";
import type { PrivatePostgres } from "../helpers/private-postgres";

// Ctrl-C in a terminal signals the whole process group: Custody and its PostgreSQL stop at the
// same moment (the embedded database is a child of `npm start`), so connections drop while
// Custody is still closing them. That is a shutdown, not an outage: one line and nothing else,
// at the default log level — no "stopping" info line, no "lost the connection" warning, no
// stack. The key-service process (`npm run keyservice`, the same key service, listeners and
// signal handling as `npm start`) stands in for the whole console, which needs a build.

let server: PrivatePostgres;
let fixture: KeyServiceFixture;
let close: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ server, fixture, close } = await startPrivateKeyServiceDatabase("custody_shutdown"));
}, 120_000);

afterAll(async () => {
  await close?.();
});

describe("Ctrl-C", () => {
  it("prints one line while the database goes down with the process", async () => {
    const instance = await fixture.instance({ LOG_LEVEL: "info" });
    const before = instance.output().length;
    // "close": the output is all read, not only the process gone.
    const exited = new Promise<string>((resolve) => instance.process.once("close", (code, signal) => resolve(`exit ${code ?? signal}`)));
    // What the terminal does: the signal to both. PostgreSQL goes down as soon as Custody has
    // taken the signal (its one line), while it is still closing its connections; stopping the
    // database before the signal is even read would be an outage, not a shutdown.
    instance.process.kill("SIGINT");
    await expect.poll(() => instance.output().slice(before), { timeout: 30_000 }).toContain("SIGINT received");
    const databaseDown = server.stop("fast");
    const code = await exited;
    await databaseDown;
    const after = instance.output().slice(before).split("\n").filter((line) => line.trim() !== "");
    expect(after).toEqual(["SIGINT received, stopping the key service"]);
    expect(code).toBe("exit 0");
    await server.startServer();
  }, 60_000);
});
