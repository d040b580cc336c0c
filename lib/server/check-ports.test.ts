import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { checkPorts, PortsUnavailableError } from "./check-ports";

const held: net.Server[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listen(host: string | undefined): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  held.push(server);
  return (server.address() as net.AddressInfo).port;
}

describe("checkPorts", () => {
  it("passes free ports and leaves them free", async () => {
    const port = await listen("127.0.0.1");
    await new Promise((resolve) => held.pop()!.close(resolve));
    await checkPorts([{ variable: "PORT", port, host: "127.0.0.1", what: "Custody" }]);
    await checkPorts([{ variable: "PORT", port, host: "127.0.0.1", what: "Custody" }]);
  });

  it("reports a port taken on all interfaces when the listener would use loopback", async () => {
    const port = await listen(undefined);
    const error = await checkPorts([{ variable: "DEV_KMS_PORT", port, host: "127.0.0.1", what: "the development KMS" }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortsUnavailableError);
    expect((error as Error).message).toBe(`port ${port} (the development KMS) is already in use: set DEV_KMS_PORT to another port`);
  });

  it("reports two settings that name the same port", async () => {
    const error = await checkPorts([
      { variable: "PORT", port: 45_123, host: "127.0.0.1", what: "Custody" },
      { variable: "DEV_KMS_PORT", port: 45_123, host: "127.0.0.1", what: "the development KMS" },
    ]).catch((e: unknown) => e);
    expect((error as PortsUnavailableError).problems).toContain("PORT and DEV_KMS_PORT are both 45123: set DEV_KMS_PORT to another port");
  });
});
