import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { configProblems, isDemoMode, parseEnv } from "./index";

// Demo parts stay in the demo: a production configuration that would trust the development
// IdP or KMS, or seed the demo's people, is refused with a message naming the variable.

const PRODUCTION = {
  DATABASE_URL: "postgresql://custody:pw@db.internal:5432/custody",
  OIDC_ISSUER: "https://idp.example.com/",
  OIDC_CLIENT_ID: "custody",
  OIDC_CLIENT_SECRET: "x",
  NEXTAUTH_SECRET: "a".repeat(32),
  NEXTAUTH_URL: "https://custody.example.com",
  KMS_VENDOR_PRINCIPAL_ARN: "arn:aws:iam::999988887777:role/custody",
  AUDIT_SIGNING_KEY: generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  SINK_SECRET_KEY: Buffer.alloc(32, 9).toString("base64"),
};
const KEYSERVICE = { DATABASE_URL: PRODUCTION.DATABASE_URL, KMS_VENDOR_PRINCIPAL_ARN: PRODUCTION.KMS_VENDOR_PRINCIPAL_ARN };

describe("a production start with a demo part configured", () => {
  it("starts when nothing of the demo is in it", () => {
    expect(configProblems(PRODUCTION)).toEqual([]);
    expect(configProblems(KEYSERVICE, "keyservice")).toEqual([]);
    // A real IdP or KMS endpoint on this machine, on another port, is the operator's business.
    expect(configProblems({ ...PRODUCTION, OIDC_ISSUER: "http://localhost:8080/realms/custody", KMS_ENDPOINT: "http://127.0.0.1:4000" })).toEqual([]);
  });

  it("refuses an identity provider at the development IdP's port on this machine, under any loopback name", () => {
    for (const issuer of ["http://localhost:3001", "http://127.0.0.1:3001/", "http://127.1.2.3:3001", "http://[::1]:3001", "http://custody.localhost:3001"]) {
      const problems = configProblems({ ...PRODUCTION, OIDC_ISSUER: issuer });
      expect(problems, issuer).toHaveLength(1);
      expect(problems[0]).toMatch(/^OIDC_ISSUER points at the development identity provider's port on this machine \(DEV_IDP_PORT 3001\)/);
    }
    // DEV_IDP_PORT moved: the check follows it.
    expect(configProblems({ ...PRODUCTION, OIDC_ISSUER: "http://localhost:4100", DEV_IDP_PORT: "4100" })[0]).toMatch(/DEV_IDP_PORT 4100/);
  });

  it("refuses the development KMS as the KMS, for npm start and for the key service alone", () => {
    const message = /^KMS_ENDPOINT points at the development KMS's port on this machine \(DEV_KMS_PORT 4566\)/;
    expect(configProblems({ ...PRODUCTION, KMS_ENDPOINT: "http://localhost:4566" })).toEqual([expect.stringMatching(message)]);
    expect(configProblems({ ...KEYSERVICE, KMS_ENDPOINT: "http://127.0.0.1:4566" }, "keyservice")).toEqual([expect.stringMatching(message)]);
  });

  it("refuses the demo seed and the demo switch beside a real identity provider", () => {
    expect(configProblems({ ...PRODUCTION, CUSTODY_SEED_DEMO: "true" })).toEqual([expect.stringMatching(/^CUSTODY_SEED_DEMO would add the demo's people/)]);
    expect(configProblems({ ...PRODUCTION, CUSTODY_DEMO: "true" })).toEqual([expect.stringMatching(/^CUSTODY_DEMO runs the demo's own identity provider/)]);
    expect(configProblems({ ...KEYSERVICE, CUSTODY_SEED_DEMO: "yes" }, "keyservice")).toHaveLength(1);
  });

  it("leaves the demo itself alone: nothing configured, or CUSTODY_DEMO for tests", () => {
    expect(configProblems({})).toEqual([]);
    expect(configProblems({ CUSTODY_SEED_DEMO: "true", DEV_IDP_PORT: "3001" })).toEqual([]);
    expect(isDemoMode(parseEnv({ DATABASE_URL: PRODUCTION.DATABASE_URL, CUSTODY_DEMO: "true" }))).toBe(true);
  });
});
