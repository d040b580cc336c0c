import { describe, expect, it } from "vitest";
import { generateKeyPairSync } from "node:crypto";
import { ConfigError, isDemoMode, parseEnv } from "./index";

const SIGNING_KEY_PEM = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const SINK_KEY = Buffer.alloc(32, 9).toString("base64");

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    parseEnv(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("parseEnv", () => {
  it("starts the demo when nothing is configured", () => {
    const env = parseEnv({});
    expect(env.PORT).toBe(3000);
    expect(isDemoMode(env)).toBe(true);
  });

  it("names each malformed variable without echoing secret values", () => {
    const problems = problemsOf({
      PORT: "eighty",
      DATABASE_URL: "mysql://root@db/custody",
      OIDC_ISSUER: "https://idp.example.com",
      OIDC_CLIENT_SECRET: "s3cr3t-value",
    });
    expect(problems.some((p) => p.startsWith("PORT"))).toBe(true);
    expect(problems.some((p) => p.startsWith("DATABASE_URL"))).toBe(true);
    expect(problems.some((p) => p.startsWith("OIDC_CLIENT_ID"))).toBe(true);
    expect(problems.join("\n")).not.toContain("s3cr3t-value");
  });

  it("bounds how long a client may take to send a request: seconds, not Node's five minutes", () => {
    const env = parseEnv({});
    expect([env.HTTP_HEADERS_TIMEOUT_SECONDS, env.HTTP_REQUEST_TIMEOUT_SECONDS, env.HTTP_KEEP_ALIVE_TIMEOUT_SECONDS]).toEqual([10, 30, 65]);
    expect(parseEnv({ HTTP_REQUEST_TIMEOUT_SECONDS: "5", HTTP_HEADERS_TIMEOUT_SECONDS: "2" }).HTTP_REQUEST_TIMEOUT_SECONDS).toBe(5);
    expect(problemsOf({ HTTP_REQUEST_TIMEOUT_SECONDS: "0" })[0]).toMatch(/^HTTP_REQUEST_TIMEOUT_SECONDS must be at least 1/);
    expect(problemsOf({ HTTP_REQUEST_TIMEOUT_SECONDS: "5" })).toContain(
      "HTTP_HEADERS_TIMEOUT_SECONDS must not be larger than HTTP_REQUEST_TIMEOUT_SECONDS (the head is part of the request)",
    );
  });

  it("refuses to run the demo sign-in against a real database unless asked to", () => {
    expect(problemsOf({ DATABASE_URL: "postgresql://custody@db/custody" })[0]).toMatch(/^OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are required when DATABASE_URL is set/);
    expect(isDemoMode(parseEnv({ DATABASE_URL: "postgresql://custody@db/custody", CUSTODY_DEMO: "true" }))).toBe(true);
  });

  it("requires a session secret and public URL with a real identity provider", () => {
    const problems = problemsOf({
      OIDC_ISSUER: "https://idp.example.com/",
      OIDC_CLIENT_ID: "custody",
      OIDC_CLIENT_SECRET: "x",
    });
    expect(problems.some((p) => p.startsWith("NEXTAUTH_SECRET"))).toBe(true);
    expect(problems.some((p) => p.startsWith("NEXTAUTH_URL"))).toBe(true);
    expect(problems.some((p) => p.startsWith("KMS_VENDOR_PRINCIPAL_ARN"))).toBe(true);
  });

  it("checks the KMS settings", () => {
    const problems = problemsOf({ KMS_VENDOR_PRINCIPAL_ARN: "custody-role", KMS_ACCESS_KEY_ID: "AKIAEXAMPLEEXAMPLE12" });
    expect(problems.some((p) => p.startsWith("KMS_VENDOR_PRINCIPAL_ARN must be an IAM role or user ARN"))).toBe(true);
    expect(problems.some((p) => p.startsWith("KMS_ACCESS_KEY_ID and KMS_SECRET_ACCESS_KEY must be set together"))).toBe(true);
  });

  it("accepts a complete production configuration", () => {
    const env = parseEnv({
      DATABASE_URL: "postgresql://custody:pw@db.internal:5432/custody",
      OIDC_ISSUER: "https://idp.example.com/",
      OIDC_CLIENT_ID: "custody",
      OIDC_CLIENT_SECRET: "x",
      NEXTAUTH_SECRET: "a".repeat(32),
      NEXTAUTH_URL: "https://custody.example.com",
      KMS_VENDOR_PRINCIPAL_ARN: "arn:aws:iam::999988887777:role/custody",
      CUSTODY_VENDOR_ADMINS: "Ops@Vendor.example, sec@vendor.example",
      AUDIT_SIGNING_KEY: SIGNING_KEY_PEM.replace(/\n/g, "\\n"),
      SINK_SECRET_KEY: SINK_KEY,
    });
    expect(isDemoMode(env)).toBe(false);
    expect(env.OIDC_ISSUER).toBe("https://idp.example.com");
    expect(env.CUSTODY_VENDOR_ADMINS).toEqual(["ops@vendor.example", "sec@vendor.example"]);
  });

  it("refuses to start production without a checkpoint signing key, or with a bad one, without echoing it", () => {
    const production = {
      DATABASE_URL: "postgresql://custody:pw@db.internal:5432/custody",
      OIDC_ISSUER: "https://idp.example.com/",
      OIDC_CLIENT_ID: "custody",
      OIDC_CLIENT_SECRET: "x",
      NEXTAUTH_SECRET: "a".repeat(32),
      NEXTAUTH_URL: "https://custody.example.com",
      KMS_VENDOR_PRINCIPAL_ARN: "arn:aws:iam::999988887777:role/custody",
      SINK_SECRET_KEY: SINK_KEY,
    };
    expect(problemsOf(production)).toEqual([expect.stringMatching(/^AUDIT_SIGNING_KEY \(or AUDIT_SIGNING_KEY_FILE\) is required outside demo mode/)]);
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    expect(problemsOf({ ...production, AUDIT_SIGNING_KEY: rsa })).toEqual(["AUDIT_SIGNING_KEY must be an Ed25519 key, not rsa"]);
    const garbage = problemsOf({ ...production, AUDIT_SIGNING_KEY: "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWlzaA==\n-----END PRIVATE KEY-----" });
    expect(garbage[0]).toMatch(/^AUDIT_SIGNING_KEY is not a PKCS#8 PEM private key/);
    expect(garbage.join("\n")).not.toContain("c2VjcmV0LWlzaA");
    expect(problemsOf({ ...production, AUDIT_SIGNING_KEY_FILE: "/nonexistent/custody.pem" })).toEqual(["AUDIT_SIGNING_KEY_FILE cannot read /nonexistent/custody.pem"]);
    expect(problemsOf({ AUDIT_RETENTION_DAYS: "0" })[0]).toMatch(/^AUDIT_RETENTION_DAYS must be at least 1/);
  });

  it("refuses to start production without a sink secret key, or with a bad one, without echoing it", () => {
    const production = {
      DATABASE_URL: "postgresql://custody:pw@db.internal:5432/custody",
      OIDC_ISSUER: "https://idp.example.com/",
      OIDC_CLIENT_ID: "custody",
      OIDC_CLIENT_SECRET: "x",
      NEXTAUTH_SECRET: "a".repeat(32),
      NEXTAUTH_URL: "https://custody.example.com",
      KMS_VENDOR_PRINCIPAL_ARN: "arn:aws:iam::999988887777:role/custody",
      AUDIT_SIGNING_KEY: SIGNING_KEY_PEM,
    };
    expect(problemsOf(production)).toEqual([expect.stringMatching(/^SINK_SECRET_KEY \(or SINK_SECRET_KEY_FILE\) is required outside demo mode.*openssl rand -base64 32/)]);
    const short = Buffer.alloc(16, 7).toString("base64");
    const problems = problemsOf({ ...production, SINK_SECRET_KEY: short });
    expect(problems).toEqual(["SINK_SECRET_KEY must be 32 random bytes, base64-encoded (create one with: openssl rand -base64 32)"]);
    expect(problems.join("\n")).not.toContain(short);
    expect(problemsOf({ ...production, SINK_SECRET_KEY_FILE: "/nonexistent/sink-key" })).toEqual(["SINK_SECRET_KEY_FILE cannot read /nonexistent/sink-key"]);
    expect(problemsOf({ ...production, SINK_SECRET_KEY: SINK_KEY, SINK_SECRET_PREVIOUS_KEYS: `${SINK_KEY}, nope` })).toEqual([
      "SINK_SECRET_PREVIOUS_KEYS key 2 must be 32 random bytes, base64-encoded (create one with: openssl rand -base64 32)",
    ]);
    expect(problemsOf({ ...production, SINK_SECRET_KEY: SINK_KEY })).toEqual([]);
  });

  it("refuses a vendor-admin list with a malformed email", () => {
    expect(problemsOf({ CUSTODY_VENDOR_ADMINS: "ops@vendor.example, not-an-email" })[0]).toMatch(/^CUSTODY_VENDOR_ADMINS/);
  });
});
