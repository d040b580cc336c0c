import { createServer } from "node:net";
import type { AddressInfo } from "node:net";

/** A loopback port that was free a moment ago (bound, then released): for a server to listen on. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  return port;
}

/** A loopback port nothing listens on: connecting to it is refused. */
export const closedPort = freePort;
