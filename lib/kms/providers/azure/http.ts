import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { readFileSync } from "node:fs";
import { Agent } from "node:https";
import { rootCertificates } from "node:tls";

// The one HTTPS agent Custody's Azure clients (Entra's token endpoint and every Key Vault) use:
// the system's trust store plus an optional CA bundle from configuration (a TLS-inspecting
// proxy, a private endpoint's CA, the development server's CA), kept-alive connections, and
// names resolved as the operating system does, except that names under `localhost.` always
// answer loopback (RFC 6761, section 6.3; browsers and systemd-resolved do the same, glibc's
// files backend does not). A vault under `.localhost` is reachable only when the configured
// vault domains are there: key URLs under any other domain are refused before any request.

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family: number) => void;

function lookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  if (!/(^|\.)localhost\.?$/i.test(hostname)) {
    dnsLookup(hostname, options, callback);
    return;
  }
  const address = options.family === 6 ? "::1" : "127.0.0.1";
  const family = options.family === 6 ? 6 : 4;
  if (options.all) callback(null, [{ address, family }], family);
  else callback(null, address, family);
}

export function createAzureAgent(caFile: string | undefined): Agent {
  const extra = caFile ? readFileSync(caFile, "utf8") : undefined;
  return new Agent({
    keepAlive: true,
    ca: extra ? [...rootCertificates, extra] : undefined,
    lookup: lookup as unknown as LookupFunctionForAgent,
  });
}

type LookupFunctionForAgent = NonNullable<ConstructorParameters<typeof Agent>[0]>["lookup"];
