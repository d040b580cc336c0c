// What `npm start` needs from demo mode (the development IdP and KMS, the seed), as a shape
// only. The implementation lives in lib/dev/demo/demo-mode.ts and is handed in by the start
// scripts (scripts/start.ts, scripts/e2e-server.ts): production code never imports lib/dev
// (an ESLint rule enforces it), and a production start never loads it.

import type { Config, Env } from "@/lib/config";

export type DemoMode = {
  /** The password of every demo person (it is printed at start). */
  password: string;
  /** Starts the development IdP with the demo people (and those of usersFile) and Custody as its client. */
  startIdp(options: { port: number; issuer: string; publicUrl: string; host?: string; usersFile?: string }): Promise<{ close(): Promise<void> }>;
  /**
   * Starts a development server for each KMS provider that has one (ports from `config`, data
   * under `dataDir`); Custody reaches each by endpoint. Returns the settings that point Custody's
   * providers at them (endpoints, the vendor's credentials and identities).
   */
  startKms(options: { config: Env; dataDir: string }): Promise<{ settings: Partial<Env>; close(): Promise<void> }>;
  /** Seeds the demo's vendor admin and tenant once; false when already there. */
  seed(): Promise<boolean>;
  /**
   * The demo tenants' own keys in the development KMSs (each already admits Custody), as lines
   * to print: which tenant, which provider, what to paste. Empty without the demo tenants.
   */
  tenantKeys(config: Config): Promise<string[]>;
  /** The demo's service credential (kept in the data folder), or null without the demo tenant. */
  serviceToken(dataDir: string): Promise<{ token: string; tenantId: string } | null>;
};
