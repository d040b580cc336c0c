import { isIP } from "node:net";

// A key in a customer's Vault (or OpenBao): the server's address, the transit engine's mount
// path, the key's name and, on Vault Enterprise or OpenBao, the namespace. Parsed and
// checked here, once, into a canonical form; nothing outside this folder looks inside it.

export type VaultKeyRef = {
  /** Canonical origin: https://host[:port], lower-case host, no path. */
  address: string;
  /** The transit mount path, e.g. "transit" or "customers/acme-transit". */
  mount: string;
  /** The transit key's name. */
  key: string;
  /** The namespace ("" for none / the root namespace). */
  namespace: string;
};

export type VaultKeyRefInput = { address: string; mount?: string; key: string; namespace?: string };

export type VaultKeyRefField = "address" | "mount" | "key" | "namespace";

export class VaultKeyRefError extends Error {
  constructor(
    readonly field: VaultKeyRefField,
    message: string,
  ) {
    super(message);
    this.name = "VaultKeyRefError";
  }
}

export type AddressPolicy = {
  /**
   * Allow http:// to a loopback address (127.0.0.0/8, ::1, localhost): a Vault on the same
   * machine, e.g. `vault server -dev`. Off in production; https is required everywhere else.
   */
  allowHttpLoopback: boolean;
};

const SEGMENT = /^[A-Za-z0-9_-]{1,64}$/;
const KEY_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;
const RESERVED_MOUNTS = new Set(["sys", "auth", "identity", "cubbyhole"]);

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
}

/** The canonical Vault address, or a VaultKeyRefError saying what is wrong with it. */
export function parseVaultAddress(input: string, policy: AddressPolicy): string {
  const text = input.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new VaultKeyRefError("address", "Enter the Vault address as a URL, such as https://vault.example.com:8200.");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new VaultKeyRefError("address", "The Vault address must start with https://.");
  if (url.username || url.password) throw new VaultKeyRefError("address", "The Vault address must not contain a user name or password.");
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) {
    throw new VaultKeyRefError("address", "Enter only the Vault server's address (scheme, host and port), without a path such as /v1/….");
  }
  if (url.protocol === "http:" && !(policy.allowHttpLoopback && isLoopback(url.hostname))) {
    throw new VaultKeyRefError(
      "address",
      "The Vault address must use https://: Custody sends its Vault token over this connection. (http:// is accepted only for a Vault on this machine, where the vendor has allowed it.)",
    );
  }
  return url.origin;
}

function parsePathLike(field: "mount" | "namespace", value: string, what: string): string {
  const trimmed = value.trim().replace(/^\/+|\/+$/g, "");
  if (trimmed.length > 128) throw new VaultKeyRefError(field, `The ${what} must be at most 128 characters.`);
  const segments = trimmed.split("/");
  if (!segments.every((s) => SEGMENT.test(s))) {
    throw new VaultKeyRefError(field, `The ${what} may contain letters, digits, - and _, in parts separated by /, such as ${field === "mount" ? "transit" : "customers/acme"}.`);
  }
  return trimmed;
}

/** Checks a key reference and returns its canonical form; throws VaultKeyRefError naming the field. */
export function parseVaultKeyRef(input: VaultKeyRefInput, policy: AddressPolicy): VaultKeyRef {
  const address = parseVaultAddress(input.address, policy);
  const mount = parsePathLike("mount", input.mount === undefined || input.mount.trim() === "" ? "transit" : input.mount, "transit mount path");
  if (RESERVED_MOUNTS.has(mount.split("/")[0]!)) throw new VaultKeyRefError("mount", `"${mount}" is not a transit mount: sys, auth, identity and cubbyhole are Vault's own paths.`);
  const key = input.key.trim();
  if (!KEY_NAME.test(key)) {
    throw new VaultKeyRefError("key", "The key name may contain letters, digits, -, _ and . (at most 128 characters), such as custody-acme.");
  }
  const namespace = input.namespace === undefined || input.namespace.trim() === "" ? "" : parsePathLike("namespace", input.namespace, "namespace");
  return { address, mount, key, namespace };
}

/** How the key is shown to people: address, namespace, mount and key in one line. */
export function describeVaultKeyRef(ref: VaultKeyRef): string {
  return `${ref.address}${ref.namespace ? ` (namespace ${ref.namespace})` : ""} ${ref.mount}/keys/${ref.key}`;
}
