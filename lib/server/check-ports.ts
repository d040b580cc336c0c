import net from "node:net";

/** A port `npm start` will listen on, and the variable that moves it. */
export type NeededPort = { variable: string; port: number; host?: string; what: string };

export class PortsUnavailableError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0] : `\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "PortsUnavailableError";
  }
}

/** Why nothing else can listen on host:port now, or null if it is free. */
function probe(port: number, host: string | undefined): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once("error", (error: NodeJS.ErrnoException) => resolve(error));
    // Exclusive, and on the address the real listener uses: a port taken on another
    // interface (or on all of them) is reported just as the real listen would find it.
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

/**
 * Checks, before anything slow starts, that every port is free and that no two settings name
 * the same one; throws PortsUnavailableError naming each port and the variable that moves it.
 */
export async function checkPorts(needed: NeededPort[]): Promise<void> {
  const problems: string[] = [];
  const byPort = new Map<number, NeededPort>();
  const distinct: NeededPort[] = [];
  for (const entry of needed) {
    const first = byPort.get(entry.port);
    if (first) {
      problems.push(`${first.variable} and ${entry.variable} are both ${entry.port}: set ${entry.variable} to another port`);
    } else {
      byPort.set(entry.port, entry);
      distinct.push(entry);
    }
  }
  const results = await Promise.all(distinct.map((entry) => probe(entry.port, entry.host)));
  distinct.forEach((entry, i) => {
    const error = results[i];
    if (!error) return;
    const where = `port ${entry.port} (${entry.what})`;
    if (error.code === "EADDRINUSE") problems.push(`${where} is already in use: set ${entry.variable} to another port`);
    else if (error.code === "EACCES") problems.push(`${where} needs privileges this process lacks: set ${entry.variable} to a port above 1023`);
    else if (error.code === "EADDRNOTAVAIL") problems.push(`${where} cannot be opened on ${entry.host}: that address is not on this machine`);
    else problems.push(`${where} cannot be opened (${error.code ?? "unknown error"}): set ${entry.variable} to another port`);
  });
  if (problems.length > 0) throw new PortsUnavailableError(problems);
}
