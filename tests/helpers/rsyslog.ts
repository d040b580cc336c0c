import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import path from "node:path";
import { vi } from "vitest";
import { freePort } from "./net";
import type { TestPki } from "./test-pki";

// A private rsyslogd (Debian's rsyslog + rsyslog-gnutls) for tests: one plain TCP and one TLS
// (gtls) listener on free ports of 127.0.0.1, each writing what it receives twice: the raw
// message, one a line, and rsyslog's own RFC 5424 parse (jsonmesg, with mmpstrucdata's
// unescaped structured data), one JSON object a line.

export type Rsyslog = {
  tcpPort: number;
  tlsPort: number;
  /** Raw messages received on a listener so far. */
  raw: (listener: "tcp" | "tls") => string[];
  /** rsyslog's parse of each message received on a listener so far. */
  parsed: (listener: "tcp" | "tls") => Array<Record<string, unknown>>;
  stop: () => Promise<void>;
};

const RSYSLOGD = "/usr/sbin/rsyslogd";

export function rsyslogAvailable(): boolean {
  return existsSync(RSYSLOGD);
}

/**
 * Whether the syslog suite runs: always where rsyslogd is installed, and in CI (`CI` set)
 * even where it is not, so that a CI machine without it fails (startRsyslog says why)
 * instead of silently skipping. On a developer's machine without it, the suite is skipped.
 */
export function runSyslogSuite(env: NodeJS.ProcessEnv = process.env): boolean {
  return rsyslogAvailable() || Boolean(env.CI);
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  await vi.waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`rsyslogd exited (${child.exitCode}):\n${log()}`);
      const open = await new Promise<boolean>((resolve) => {
        const socket = connect(port, "127.0.0.1");
        socket.once("connect", () => {
          socket.destroy();
          resolve(true);
        });
        socket.once("error", () => resolve(false));
      });
      if (!open) throw new Error(`rsyslogd did not listen on ${port}:\n${log()}`);
    },
    { timeout: 30_000, interval: 100 },
  );
}

function lines(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").filter((line) => line !== "");
}

export async function startRsyslog(dir: string, pki: TestPki): Promise<Rsyslog> {
  if (!rsyslogAvailable()) {
    throw new Error(`${RSYSLOGD} is missing: install rsyslog and rsyslog-gnutls (CI is set, so the syslog suite fails instead of skipping).`);
  }
  const [tcpPort, tlsPort] = [await freePort(), await freePort()];
  const file = (name: string) => path.join(dir, name);
  const q = (value: string) => JSON.stringify(value);
  const conf = `
global(workDirectory=${q(dir)} maxMessageSize="64k"
  defaultNetstreamDriverCAFile=${q(pki.caPath)}
  defaultNetstreamDriverCertFile=${q(pki.serverCertPath)}
  defaultNetstreamDriverKeyFile=${q(pki.serverKeyPath)})
module(load="imtcp")
module(load="mmpstrucdata")
template(name="raw" type="string" string="%rawmsg%\\n")
template(name="parsed" type="string" string="%jsonmesg%\\n")
ruleset(name="tcp") {
  action(type="omfile" file=${q(file("tcp.log"))} template="raw")
  action(type="mmpstrucdata" sd_name.lowercase="off")
  action(type="omfile" file=${q(file("tcp.json"))} template="parsed")
}
ruleset(name="tls") {
  action(type="omfile" file=${q(file("tls.log"))} template="raw")
  action(type="mmpstrucdata" sd_name.lowercase="off")
  action(type="omfile" file=${q(file("tls.json"))} template="parsed")
}
input(type="imtcp" address="127.0.0.1" port="${tcpPort}" ruleset="tcp")
input(type="imtcp" address="127.0.0.1" port="${tlsPort}" ruleset="tls"
  streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
`;
  writeFileSync(file("rsyslog.conf"), conf);
  let output = "";
  const child = spawn(RSYSLOGD, ["-n", "-f", file("rsyslog.conf"), "-i", file("rsyslogd.pid")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  };
  try {
    await waitForPort(tcpPort, child, () => output);
    await waitForPort(tlsPort, child, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    tcpPort,
    tlsPort,
    raw: (listener) => lines(file(`${listener}.log`)),
    parsed: (listener) => lines(file(`${listener}.json`)).map((line) => JSON.parse(line) as Record<string, unknown>),
    stop,
  };
}
