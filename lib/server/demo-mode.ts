// What `npm start` needs from demo mode (the development IdP and KMS, the seed), as a shape
// only. The implementation lives in lib/dev/demo/demo-mode.ts and is handed in by the start
// scripts (scripts/start.ts, scripts/e2e-server.ts): production code never imports lib/dev
// (an ESLint rule enforces it), and a production start never loads it.

export type DemoMode = {
  /** The password of every demo person (it is printed at start). */
  password: string;
  /** Starts the development IdP with the demo people (and those of usersFile) and Custody as its client. */
  startIdp(options: { port: number; issuer: string; publicUrl: string; host?: string; usersFile?: string }): Promise<{ close(): Promise<void> }>;
  /**
   * Starts the development KMS (which speaks STS too); Custody reaches it by endpoint with the
   * vendor's base keys and assumes the vendor's role (`roleArn`, with `externalId`).
   */
  startKms(options: { port: number; dataDir: string }): Promise<{
    endpoint: string;
    vendor: { accessKeyId: string; secretAccessKey: string; roleArn: string; externalId: string; sessionName: string };
    close(): Promise<void>;
  }>;
  /** Seeds the demo's vendor admin and tenant once; false when already there. */
  seed(): Promise<boolean>;
  /** The demo tenant's own key in the development KMS, or null without the demo tenant. */
  tenantKey(kmsEndpoint: string, vendorPrincipalArn: string): Promise<string | null>;
  /** The demo's service credential (kept in the data folder), or null without the demo tenant. */
  serviceToken(dataDir: string): Promise<{ token: string; tenantId: string } | null>;
};
