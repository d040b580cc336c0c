import "server-only";
import { connect as netConnect, isIP, type Socket } from "node:net";
import { hostname } from "node:os";
import { connect as tlsConnect } from "node:tls";
import { pinnedLookup, resolveTarget } from "../ssrf";
import type { SyslogSinkConfig } from "../kinds/syslog";
import { SinkDeliveryError, type SinkEvent, type TransportOptions } from "../types";
import { abortedError, DEFAULT_TIMEOUT_MS, networkError, timeoutError, withinDeadline } from "./network-error";
import { formatSyslogMessage, frameOctetCounted } from "./syslog-format";
import { trustedCas } from "./tls-trust";

// Syslog over TCP or TLS (RFC 5425 style, certificate always verified): a batch is written on
// one connection, which is then closed. Syslog has no application-level acknowledgement, so
// "accepted" means every byte was written to the socket and the receiver closed the connection
// cleanly after reading our end of stream; a receiver that crashes after that can still lose
// what it had buffered. Receivers deduplicate redeliveries by the `id` SD-PARAM.

export async function sendSyslog(config: SyslogSinkConfig, events: SinkEvent[], options: TransportOptions): Promise<void> {
  if (events.length === 0) return;
  if (!Number.isInteger(config.port) || config.port < 1 || config.port > 65535) {
    throw new SinkDeliveryError("The syslog port must be a number from 1 to 65535.", false);
  }
  if (!Number.isInteger(config.facility) || config.facility < 0 || config.facility > 23) {
    throw new SinkDeliveryError("The syslog facility must be a number from 0 to 23.", false);
  }
  const ca = config.transport === "tls" ? trustedCas(config.caCertificate) : undefined;
  const header = { facility: config.facility, appName: config.appName, hostname: hostname(), procId: String(process.pid) };
  const payload = Buffer.concat(events.map((event) => frameOctetCounted(formatSyslogMessage(event, header))));
  const started = Date.now();
  const totalMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const target = await withinDeadline(
    resolveTarget(config.host, { allowPrivateTargets: options.allowPrivateTargets }),
    totalMs,
    `${config.host}:${config.port}`,
  );
  const where = `${target.host}:${config.port}`;
  const timeoutMs = Math.max(1, totalMs - (Date.now() - started));
  if (options.signal?.aborted) throw abortedError();

  await new Promise<void>((resolve, reject) => {
    let settled = false;
    let flushed = false;
    const finish = (error: SinkDeliveryError | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };

    const lookup = pinnedLookup(target);
    const socket: Socket =
      config.transport === "tls"
        ? tlsConnect({
            host: target.host,
            port: config.port,
            lookup,
            ca,
            // SNI and the certificate's name check use the configured name, not the address.
            servername: isIP(target.host) ? undefined : target.host,
            rejectUnauthorized: true,
          })
        : netConnect({ host: target.host, port: config.port, lookup });
    // Armed only once the request exists: a synchronous throw above leaves no timer behind to
    // call destroy() on nothing.
    const onAbort = () => finish(abortedError());
    const timer = setTimeout(() => finish(timeoutError(where, totalMs)), timeoutMs);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    socket.once(config.transport === "tls" ? "secureConnect" : "connect", () => socket.end(payload));
    socket.once("finish", () => {
      flushed = true;
    });
    socket.on("error", (error) => finish(networkError(error, where)));
    socket.once("close", () => {
      finish(flushed ? null : new SinkDeliveryError(`${where} closed the connection before the batch was written.`, true));
    });
    socket.resume(); // a syslog receiver has nothing to say; never let its bytes pile up
  });
}
