import { afterEach, describe, expect, it } from "vitest";
import { generateKeyPairSync } from "node:crypto";
import { ConfigError, configProblems, forgetConfig, getConfig, installConfig, isDemoMode, loadConfig, parseEnv, parseVariables } from "./index";
import { z } from "zod";

const SIGNING_KEY_PEM = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const SINK_KEY = Buffer.alloc(32, 9).toString("base64");

const problemsOf = (env: Record<string, string | undefined>) => configProblems(env);

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

  it("takes Custody's assumed role: a role ARN only, the vendor principal that role, an external id only with it", () => {
    for (const notARole of ["arn:aws:iam::999988887777:user/custody", "arn:aws:sts::999988887777:assumed-role/custody/s", "arn:aws:kms:us-east-1:999988887777:key/x", "custody"]) {
      expect(problemsOf({ KMS_ROLE_ARN: notARole })[0]).toMatch(/^KMS_ROLE_ARN must be an IAM role ARN, like arn:aws:iam::999988887777:role\/custody \(not a user/);
    }
    expect(problemsOf({ KMS_ROLE_EXTERNAL_ID: "custody-external-id" })).toContain("KMS_ROLE_EXTERNAL_ID needs KMS_ROLE_ARN (the role it is for)");
    expect(problemsOf({ KMS_ROLE_ARN: "arn:aws:iam::999988887777:role/custody", KMS_VENDOR_PRINCIPAL_ARN: "arn:aws:iam::999988887777:role/other" })).toContain(
      "KMS_VENDOR_PRINCIPAL_ARN must be KMS_ROLE_ARN (or unset) when Custody assumes a role: tenants grant access to that role",
    );
    expect(problemsOf({ KMS_ROLE_ARN: "arn:aws:iam::999988887777:role/custody", KMS_ROLE_EXTERNAL_ID: "x" })[0]).toMatch(/^KMS_ROLE_EXTERNAL_ID must be 2-1224 characters/);
    const env = parseEnv({ KMS_ROLE_ARN: "arn:aws:iam::999988887777:role/service-role/custody", KMS_ROLE_EXTERNAL_ID: "custody-external-id" });
    expect([env.KMS_ROLE_ARN, env.KMS_ROLE_EXTERNAL_ID, env.KMS_ROLE_SESSION_NAME]).toEqual(["arn:aws:iam::999988887777:role/service-role/custody", "custody-external-id", "custody"]);
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

  it("refuses a vendor-admin list with a malformed email", () => {
    expect(problemsOf({ CUSTODY_VENDOR_ADMINS: "ops@vendor.example, not-an-email" })[0]).toMatch(/^CUSTODY_VENDOR_ADMINS/);
  });
});

describe("the process's configuration", () => {
  afterEach(() => {
    forgetConfig();
    delete process.env.KEY_LEASE_SECONDS;
  });

  it("is the one start-up installed, frozen, for every module that asks", () => {
    const installed = installConfig({ ...parseEnv({}), KEY_LEASE_SECONDS: 42 });
    expect(getConfig()).toBe(installed);
    expect(Object.isFrozen(installed)).toBe(true);
    expect(Object.isFrozen(installed.CUSTODY_VENDOR_ADMINS)).toBe(true);
    expect(() => {
      (installed as { PORT: number }).PORT = 1;
    }).toThrow(TypeError);
  });

  it("is read from the environment, values checked, where no entry point installed one", () => {
    process.env.KEY_LEASE_SECONDS = "17";
    expect(getConfig().KEY_LEASE_SECONDS).toBe(17);
    process.env.KEY_LEASE_SECONDS = "soon";
    expect(() => getConfig()).toThrow(ConfigError);
    expect(() => getConfig()).toThrow(/KEY_LEASE_SECONDS must be a number of seconds/);
  });

  it("takes an entry point's defaults below the environment and its overrides above it", () => {
    process.env.KEY_LEASE_SECONDS = "17";
    expect(loadConfig("library", { defaults: { KEY_LEASE_SECONDS: "5", KMS_MAX_ATTEMPTS: "2" } })).toMatchObject({ KEY_LEASE_SECONDS: 17, KMS_MAX_ATTEMPTS: 2 });
    expect(loadConfig("library", { overrides: { KEY_LEASE_SECONDS: "5" } }).KEY_LEASE_SECONDS).toBe(5);
  });

  it("leaves the rules across variables to start-up: a script may use a database without an identity provider", () => {
    expect(configProblems({ DATABASE_URL: "postgresql://custody@db/custody" }, "library")).toEqual([]);
    expect(configProblems({ DATABASE_URL: "postgresql://custody@db/custody" }, "custody")).not.toEqual([]);
  });

  it("runs a value's owner's check on it and names the variable, never the value", () => {
    const checks = { SINK_SECRET_KEY: (value: string) => { if (value !== "good") throw new Error("must be good"); } };
    expect(configProblems({ SINK_SECRET_KEY: "s3cr3t" }, "library", checks)).toEqual(["SINK_SECRET_KEY must be good"]);
    expect(configProblems({ SINK_SECRET_KEY: "good" }, "library", checks)).toEqual([]);
    expect(configProblems({}, "library", checks)).toEqual([]);
  });

  it("parses a development server's own variables the same way", () => {
    const schema = z.object({ DEV_KMS_PORT: z.coerce.number({ message: "must be a port number" }).int().default(4566) });
    expect(parseVariables(schema, { DEV_KMS_PORT: "" }).DEV_KMS_PORT).toBe(4566);
    expect(() => parseVariables(schema, { DEV_KMS_PORT: "x" }, { subject: "dev KMS configuration" })).toThrow("Invalid dev KMS configuration:\n  - DEV_KMS_PORT must be a port number");
  });
});
