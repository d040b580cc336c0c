import { z } from "zod";
import { bool, port, seconds } from "../fields";
import type { ProviderChecks } from "./types";

// HashiCorp Vault / OpenBao Transit's settings (lib/kms/providers/vault reads them through
// getConfig(); the server list's meaning is checked there, lib/kms/providers/vault/settings.ts).

export const VAULT_VARIABLES = {
  /** The Vault / OpenBao servers Custody holds credentials for, a JSON list; or VAULT_SERVERS_FILE. */
  VAULT_SERVERS: z.string().optional(),
  VAULT_SERVERS_FILE: z.string().min(1).optional(),
  /** Allow http:// Vault addresses on loopback only (a Vault on the same machine); https everywhere else. */
  VAULT_ALLOW_HTTP_LOOPBACK: bool.default(false),
  /** Deadline of one HTTP exchange with a Vault server. */
  VAULT_TIMEOUT_SECONDS: seconds(1, 120).default(5),
  /** The demo's development Vault; unset: the port it had last time, else any free one. */
  DEV_VAULT_PORT: port.optional(),
};

export const vaultChecks: ProviderChecks = (raw) =>
  raw.VAULT_SERVERS !== undefined && raw.VAULT_SERVERS_FILE !== undefined ? ["VAULT_SERVERS and VAULT_SERVERS_FILE are alternatives: set one of them"] : [];
