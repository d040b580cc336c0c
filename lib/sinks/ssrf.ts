import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { SinkDeliveryError } from "./types";

// The SSRF guard. A sink's host is chosen by a tenant admin, and Custody connects to it from
// inside the vendor's network: without this guard a tenant could make Custody POST to the
// cloud metadata service, a database on 10.x, or an admin port on 127.0.0.1. The host is
// resolved once, every address it resolves to is checked, and the connection is then made to
// the checked addresses (see pinnedLookup): a second lookup at connect time would let a DNS
// server answer "public" to the check and "private" to the connect (DNS rebinding).

/** Why an address is not a public unicast address; null: it is one. */
export type AddressCategory =
  | "loopback"
  | "private"
  | "link-local"
  | "cloud-metadata"
  | "unspecified"
  | "shared"
  | "multicast"
  | "reserved";

const PHRASES: Record<AddressCategory, string> = {
  loopback: "a loopback address",
  private: "a private address",
  "link-local": "a link-local address",
  "cloud-metadata": "the cloud metadata service's address",
  unspecified: "an unspecified address",
  shared: "a carrier-grade NAT (shared) address",
  multicast: "a multicast address",
  reserved: "a reserved address",
};

type Range4 = { base: number; bits: number; category: AddressCategory };

function range4(cidr: string, category: AddressCategory): Range4 {
  const [base, bits] = cidr.split("/");
  return { base: parseIpv4(base!)!, bits: Number(bits), category };
}

// Most specific first: the first match wins.
const IPV4_RANGES: Range4[] = [
  range4("169.254.169.254/32", "cloud-metadata"),
  range4("168.63.129.16/32", "cloud-metadata"), // Azure's WireServer (host agent), public space
  range4("0.0.0.0/8", "unspecified"), // "this network": 0.0.0.0 reaches the local host on Linux
  range4("10.0.0.0/8", "private"),
  range4("100.64.0.0/10", "shared"),
  range4("127.0.0.0/8", "loopback"),
  range4("169.254.0.0/16", "link-local"),
  range4("172.16.0.0/12", "private"),
  range4("192.0.0.0/24", "reserved"), // IETF protocol assignments
  range4("192.0.2.0/24", "reserved"), // documentation
  range4("192.88.99.0/24", "reserved"), // 6to4 relay anycast (deprecated)
  range4("192.168.0.0/16", "private"),
  range4("198.18.0.0/15", "reserved"), // benchmarking
  range4("198.51.100.0/24", "reserved"), // documentation
  range4("203.0.113.0/24", "reserved"), // documentation
  range4("224.0.0.0/4", "multicast"),
  range4("240.0.0.0/4", "reserved"), // includes 255.255.255.255
];

type Range6 = { base: bigint; bits: number; category: AddressCategory };

function range6(cidr: string, category: AddressCategory): Range6 {
  const [base, bits] = cidr.split("/");
  return { base: parseIpv6(base!)!, bits: Number(bits), category };
}

const IPV6_RANGES: Range6[] = [
  range6("::/128", "unspecified"),
  range6("::1/128", "loopback"),
  range6("fd00:ec2::254/128", "cloud-metadata"), // AWS's IPv6 instance metadata endpoint
  range6("64:ff9b:1::/48", "private"), // local-use NAT64
  range6("100::/64", "reserved"), // discard-only
  range6("2001::/32", "reserved"), // Teredo: the IPv4 behind it is obfuscated, so refuse it whole
  range6("2001:db8::/32", "reserved"), // documentation
  range6("fc00::/7", "private"), // unique local
  range6("fe80::/10", "link-local"),
  range6("fec0::/10", "private"), // site-local (deprecated)
  range6("ff00::/8", "multicast"),
];

/** An IPv4 address as an unsigned 32-bit number, or null if `text` is not dotted-quad IPv4. */
function parseIpv4(text: string): number | null {
  if (isIP(text) !== 4) return null;
  return text.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
}

/** An IPv6 address (zone id dropped) as a 128-bit number, or null if `text` is not IPv6. */
function parseIpv6(text: string): bigint | null {
  const address = text.split("%")[0]!;
  if (isIP(address) !== 6) return null;
  let words: number[] = [];
  const [head, tail] = address.includes("::") ? address.split("::") : [address, undefined];
  const toWords = (part: string | undefined): number[] => {
    if (!part) return [];
    return part.split(":").flatMap((group) => {
      const v4 = parseIpv4(group);
      if (v4 !== null) return [v4 >>> 16, v4 & 0xffff];
      return [parseInt(group, 16)];
    });
  };
  const headWords = toWords(head);
  if (tail === undefined) words = headWords;
  else {
    const tailWords = toWords(tail);
    words = [...headWords, ...new Array<number>(8 - headWords.length - tailWords.length).fill(0), ...tailWords];
  }
  return words.reduce((acc, word) => (acc << 16n) | BigInt(word), 0n);
}

function inRange6(value: bigint, range: Range6): boolean {
  const shift = BigInt(128 - range.bits);
  return value >> shift === range.base >> shift;
}

function classifyIpv4(value: number): AddressCategory | null {
  for (const range of IPV4_RANGES) {
    const mask = range.bits === 0 ? 0 : (0xffffffff << (32 - range.bits)) >>> 0;
    if (((value & mask) >>> 0) === ((range.base & mask) >>> 0)) return range.category;
  }
  return null;
}

const V4_MAPPED = range6("::ffff:0:0/96", "reserved");
const V4_TRANSLATED = range6("::ffff:0:0:0/96", "reserved"); // RFC 2765 (SIIT)
const V4_COMPATIBLE = range6("::/96", "reserved");
const NAT64 = range6("64:ff9b::/96", "reserved");
const SIX_TO_FOUR = range6("2002::/16", "reserved");

/** An ISATAP interface id (RFC 5214): 0000:5efe or 0200:5efe (the u and g bits aside), then an IPv4 address. */
function isIsatap(value: bigint): boolean {
  return ((value >> 32n) & 0xfcffffffn) === 0x5efen;
}

function classifyIpv6(value: bigint): AddressCategory | null {
  for (const range of IPV6_RANGES) if (inRange6(value, range)) return range.category;
  // Forms that carry an IPv4 address inside: judged by that address, so ::ffff:10.0.0.5,
  // ::ffff:0:127.0.0.1 and 64:ff9b::a9fe:a9fe (NAT64 to 169.254.169.254) are refused like their
  // IPv4 selves. An ISATAP address is judged by its IPv4 address whatever its prefix: a host
  // with an ISATAP tunnel sends it there over IPv4. (Teredo is refused whole, above.)
  if (
    inRange6(value, V4_MAPPED) ||
    inRange6(value, V4_TRANSLATED) ||
    inRange6(value, V4_COMPATIBLE) ||
    inRange6(value, NAT64) ||
    isIsatap(value)
  ) {
    return classifyIpv4(Number(value & 0xffffffffn));
  }
  if (inRange6(value, SIX_TO_FOUR)) return classifyIpv4(Number((value >> 80n) & 0xffffffffn));
  return null;
}

/**
 * What kind of non-public address `address` is, or null for a public unicast address.
 * Throws on text that is not an IP address: the guard must never wave through what it cannot read.
 */
export function classifyAddress(address: string): AddressCategory | null {
  const v4 = parseIpv4(address);
  if (v4 !== null) return classifyIpv4(v4);
  const v6 = parseIpv6(address);
  if (v6 !== null) return classifyIpv6(v6);
  throw new Error(`not an IP address: ${address}`);
}

/** A host and the addresses it was checked at: connect to these, never look the host up again. */
export type ResolvedTarget = { host: string; addresses: LookupAddress[] };

export type Resolver = (host: string) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) => {
    dnsLookup(host, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses)));
  });

/** `host` without the brackets a URL puts around an IPv6 literal. */
export function bareHost(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/**
 * Resolves `host` and checks every address it resolves to (one private address among public
 * ones is enough to refuse: the connection could land on any of them). A refused target is not
 * retryable: the same host will be refused again until the sink or the deployment changes.
 */
export async function resolveTarget(
  rawHost: string,
  options: { allowPrivateTargets: boolean; resolver?: Resolver },
): Promise<ResolvedTarget> {
  const host = bareHost(rawHost.trim());
  if (host === "") throw new SinkDeliveryError("The sink has no host to deliver to.", false);
  const literal = isIP(host.split("%")[0]!);
  let addresses: LookupAddress[];
  if (literal !== 0) addresses = [{ address: host, family: literal }];
  else {
    try {
      addresses = await (options.resolver ?? systemResolver)(host);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ENOTFOUND may be a typo or a DNS outage; either way the outbox backs off and the
      // tenant sees the message, so it is retryable rather than final.
      throw new SinkDeliveryError(
        code === "ENOTFOUND" || code === "ENODATA"
          ? `${host} could not be resolved (no such host in DNS).`
          : `${host} could not be resolved (DNS lookup failed${code && /^[A-Z_]+$/.test(code) ? `: ${code}` : ""}).`,
        true,
      );
    }
    if (addresses.length === 0) throw new SinkDeliveryError(`${host} could not be resolved (no addresses).`, true);
  }
  if (!options.allowPrivateTargets) {
    for (const { address } of addresses) {
      const category = classifyAddress(address);
      if (category === null) continue;
      const where = literal !== 0 ? `${host} is ${PHRASES[category]}` : `${host} resolves to ${PHRASES[category]} (${address})`;
      throw new SinkDeliveryError(`${where}; this deployment does not allow private targets.`, false);
    }
  }
  return { host, addresses };
}

/**
 * A `lookup` for net/tls/https that answers with the already-checked addresses, so the socket
 * connects where the guard looked while TLS still verifies the certificate against the name.
 */
export function pinnedLookup(target: ResolvedTarget): LookupFunction {
  return (_hostname, options, callback) => {
    const family = typeof options === "object" && options !== null ? options.family : undefined;
    const wanted = family === 4 || family === 6 ? target.addresses.filter((a) => a.family === family) : target.addresses;
    if (wanted.length === 0) {
      const error: NodeJS.ErrnoException = new Error(`no IPv${family} address for ${target.host}`);
      error.code = "ENOTFOUND";
      callback(error, "", 0);
      return;
    }
    // net.connect asks for all addresses when it races them (autoSelectFamily), else for one.
    if (typeof options === "object" && options !== null && options.all) {
      (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, wanted);
    } else callback(null, wanted[0]!.address, wanted[0]!.family);
  };
}
