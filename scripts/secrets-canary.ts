import path from "node:path";

// What e2e/secrets-canary.spec.ts leaves for scripts/secrets-scan.ts: one value of each secret
// Custody handles, made through the product during the e2e run, and where the e2e server puts
// its database dump before it drops the database.

export type Canaries = {
  /** A data key the key service handed out (base64). */
  dek: string;
  /** A service credential's secret (the token's part after its id). */
  credentialSecret: string;
  /** A webhook sink's signing secret, shown once. */
  webhookSigningSecret: string;
  /** The token in a webhook sink URL's query string. */
  webhookUrlToken: string;
  /** A console session's cookie value. */
  sessionToken: string;
};

const E2E_DATA = path.resolve(__dirname, "../.custody/e2e");
export const CANARY_FILE = path.join(E2E_DATA, "canaries.json");
export const DATABASE_DUMP_FILE = path.join(E2E_DATA, "database.sql");
