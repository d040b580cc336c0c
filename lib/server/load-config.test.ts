import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { configProblems } from "@/lib/config";
import { KEY_MATERIAL_CHECKS } from "./load-config";

// Key material is checked by its owners (lib/audit, lib/sinks) and composed into start-up's
// configuration here; lib/config itself only knows the values are strings.
const SIGNING_KEY_PEM = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const SINK_KEY = Buffer.alloc(32, 9).toString("base64");
const problemsOf = (env: Record<string, string | undefined>) => configProblems(env, "custody", KEY_MATERIAL_CHECKS);

describe("start-up's configuration", () => {
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

});
