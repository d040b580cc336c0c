import { z } from "zod";
import { parseSigningKeyPem, readSigningKeyFile } from "@/lib/audit/integrity/signing-key";
import { parsePublicKeysPem, readPublicKeysFile } from "@/lib/audit/integrity/trusted-keys";
import { parsePreviousSinkSecretKeys, parseSinkSecretKey, readSinkSecretKeyFile } from "@/lib/sinks/secrets";

// Every setting Custody reads from the environment, validated once. A missing or malformed
// value stops start-up with a message naming the variable; secret values are never echoed.

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"], { message: "must be true or false" })
  .transform((v) => v === "true" || v === "1" || v === "yes");

const port = z.coerce
  .number({ message: "must be a port number" })
  .int("must be a whole number")
  .min(1, "must be between 1 and 65535")
  .max(65535, "must be between 1 and 65535");

const seconds = (min: number, max: number) =>
  z.coerce
    .number({ message: "must be a number of seconds" })
    .int("must be a whole number")
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

const httpUrl = z
  .string()
  .url("must be a URL such as https://idp.example.com")
  .refine((v) => /^https?:\/\//.test(v), "must start with http:// or https://")
  .transform((v) => v.replace(/\/+$/, ""));

const postgresUrl = z
  .string()
  .refine((v) => /^postgres(ql)?:\/\/[^\s]+$/.test(v), "must be a postgresql://user:password@host:port/database URL");

const baseSchema = z.object({
    PORT: port.default(3000),
    HOST: z.string().min(1).optional(),
    DATABASE_URL: postgresUrl.optional(),
    NEXTAUTH_URL: z
      .string()
      .url("must be Custody's public URL, such as https://custody.example.com")
      .refine((v) => /^https?:\/\//.test(v), "must start with http:// or https://")
      .transform((v) => v.replace(/\/+$/, ""))
      .optional(),
    NEXTAUTH_SECRET: z.string().min(32, "must be at least 32 characters (try: openssl rand -base64 32)").optional(),
    OIDC_ISSUER: httpUrl.optional(),
    OIDC_CLIENT_ID: z.string().min(1, "must not be empty").optional(),
    OIDC_CLIENT_SECRET: z.string().min(1, "must not be empty").optional(),
    OIDC_PROMPT: z.enum(["login", "consent", "select_account", "none"]).optional(),
    OIDC_NAME: z.string().min(1).max(60).default("SSO"),
    TRUST_PROXY: bool.default(false),
    CUSTODY_DATA_DIR: z.string().min(1).default(".custody"),
    EMBEDDED_PG_PORT: port.default(54329),
    DEV_IDP_PORT: port.default(3001),
    DEV_IDP_USERS_FILE: z.string().min(1).optional(),
    CUSTODY_SEED_DEMO: bool.optional(),
    /** Run the demo (development IdP and KMS, seeded data) against DATABASE_URL: tests only. */
    CUSTODY_DEMO: bool.default(false),
    DATABASE_POOL_SIZE: z.coerce.number({ message: "must be a number" }).int().min(1, "must be at least 1").max(200, "must be at most 200").default(10),
    KMS_PARTITION: z.enum(["aws", "aws-cn", "aws-us-gov"], { message: "must be aws, aws-cn or aws-us-gov" }).default("aws"),
    KMS_ENDPOINT: httpUrl.optional(),
    KMS_VENDOR_PRINCIPAL_ARN: z
      .string()
      .regex(/^arn:aws(-cn|-us-gov)?:(iam|sts)::\d{12}:[A-Za-z0-9+=,.@_\-/]+$/, "must be an IAM role or user ARN, like arn:aws:iam::111122223333:role/custody")
      .optional(),
    KMS_ACCESS_KEY_ID: z.string().min(16, "must be an AWS access key id").optional(),
    KMS_SECRET_ACCESS_KEY: z.string().min(16, "must be an AWS secret access key").optional(),
    KMS_MAX_ATTEMPTS: z.coerce.number({ message: "must be a number" }).int().min(1).max(10).default(3),
    /** How long the console's Verify keeps retrying a refusal that may be AWS still applying a new grant or policy. */
    KMS_VERIFY_WAIT_SECONDS: z.coerce.number({ message: "must be a number of seconds" }).int("must be a whole number").min(0, "must be at least 0").max(900, "must be at most 900").default(300),
    DEV_KMS_PORT: port.default(4566),
    /** How long a key-service instance keeps a tenant key unwrapped before asking the KMS again. */
    KEY_LEASE_SECONDS: z.coerce.number({ message: "must be a number of seconds" }).int("must be a whole number").min(1, "must be at least 1").max(86_400, "must be at most 86400 (a day)").default(300),
    /** Port of the stand-alone key service (`npm run keyservice`); `npm start` serves /api/v1 on PORT. */
    KEYSERVICE_PORT: z.coerce.number({ message: "must be a port number" }).int("must be a whole number").min(0, "must be between 0 (any free port) and 65535").max(65535, "must be between 0 (any free port) and 65535").default(3002),
    /** Ed25519 key (PKCS#8 PEM) that signs audit checkpoints; or AUDIT_SIGNING_KEY_FILE, a path to one. Required in production. */
    AUDIT_SIGNING_KEY: z.string().superRefine((v, ctx) => signingKeyProblem(() => parseSigningKeyPem(v), ctx)).optional(),
    AUDIT_SIGNING_KEY_FILE: z.string().min(1).superRefine((v, ctx) => signingKeyProblem(() => readSigningKeyFile(v), ctx)).optional(),
    /** Public keys (PEM) of previous signing keys, whose checkpoints still verify after a rotation; or AUDIT_TRUSTED_PUBLIC_KEYS_FILE. */
    AUDIT_TRUSTED_PUBLIC_KEYS: z.string().superRefine((v, ctx) => signingKeyProblem(() => parsePublicKeysPem(v), ctx)).optional(),
    AUDIT_TRUSTED_PUBLIC_KEYS_FILE: z.string().min(1).superRefine((v, ctx) => signingKeyProblem(() => readPublicKeysFile(v), ctx)).optional(),
    /** How often chains whose head moved get a new signed checkpoint. */
    AUDIT_CHECKPOINT_INTERVAL_MINUTES: z.coerce.number({ message: "must be a number of minutes" }).int("must be a whole number").min(1, "must be at least 1").max(10_080, "must be at most 10080 (a week)").default(60),
    /** Events older than this many days are pruned (lib/audit/prune.ts); unset keeps the trail forever. */
    AUDIT_RETENTION_DAYS: z.coerce.number({ message: "must be a number of days" }).int("must be a whole number").min(1, "must be at least 1").max(36_500, "must be at most 36500").optional(),
    /** AES-256-GCM key sealing log-sink secrets (32 random bytes, base64); or SINK_SECRET_KEY_FILE. Required in production. */
    SINK_SECRET_KEY: z.string().superRefine((v, ctx) => signingKeyProblem(() => parseSinkSecretKey(v), ctx)).optional(),
    SINK_SECRET_KEY_FILE: z.string().min(1).superRefine((v, ctx) => signingKeyProblem(() => readSinkSecretKeyFile(v), ctx)).optional(),
    /** Keys used before a rotation, comma-separated, so secrets they sealed still open. */
    SINK_SECRET_PREVIOUS_KEYS: z.string().superRefine((v, ctx) => signingKeyProblem(() => parsePreviousSinkSecretKeys(v), ctx)).optional(),
    /** A log-sink batch still failing this many hours after its first attempt is marked failed. */
    SINK_DELIVERY_MAX_AGE_HOURS: z.coerce.number({ message: "must be a number of hours" }).int("must be a whole number").min(1, "must be at least 1").max(720, "must be at most 720 (30 days)").default(24),
    /** Let sinks reach private, loopback and link-local addresses (the SSRF guard off); default: only in demo mode. */
    SINK_ALLOW_PRIVATE_TARGETS: bool.optional(),
    /** Let webhook and HEC sinks use http:// URLs; default: only in demo mode. */
    SINK_ALLOW_HTTP: bool.optional(),
    /** Failed key-service authentications allowed per client address per window, then 429 until it ends. */
    KEYSERVICE_AUTH_FAILURES_PER_IP: z.coerce.number({ message: "must be a number" }).int("must be a whole number").min(1, "must be at least 1").max(100_000, "must be at most 100000").default(30),
    /** Failed key-service authentications allowed per credential id per window (a right secret still passes). */
    KEYSERVICE_AUTH_FAILURES_PER_CREDENTIAL: z.coerce.number({ message: "must be a number" }).int("must be a whole number").min(1, "must be at least 1").max(100_000, "must be at most 100000").default(10),
    KEYSERVICE_AUTH_FAILURE_WINDOW_SECONDS: seconds(1, 3600).default(60),
    /** The request head must arrive within this many seconds, else 408 and the connection is closed. */
    HTTP_HEADERS_TIMEOUT_SECONDS: seconds(1, 120).default(10),
    /** The whole request (head and body) must arrive within this many seconds, else 408. */
    HTTP_REQUEST_TIMEOUT_SECONDS: seconds(1, 600).default(30),
    /** An idle keep-alive connection is closed after this many seconds (above a load balancer's idle timeout). */
    HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: seconds(1, 600).default(65),
    CUSTODY_VENDOR_ADMINS: z
      .string()
      .transform((v) => v.split(",").map((e) => e.trim().toLowerCase()).filter(Boolean))
      .pipe(z.array(z.string().email("must be a comma-separated list of email addresses")))
      .default([]),
});

function signingKeyProblem(parse: () => unknown, ctx: z.RefinementCtx): void {
  try {
    parse();
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
  }
}

/** Rules across variables, checked on the raw values so they are reported alongside format errors. */
function crossChecks(raw: Record<string, string | undefined>, purpose: Purpose): string[] {
  const problems: string[] = [];
  if (Number(raw.HTTP_HEADERS_TIMEOUT_SECONDS ?? 10) > Number(raw.HTTP_REQUEST_TIMEOUT_SECONDS ?? 30)) {
    problems.push("HTTP_HEADERS_TIMEOUT_SECONDS must not be larger than HTTP_REQUEST_TIMEOUT_SECONDS (the head is part of the request)");
  }
  if ((raw.KMS_ACCESS_KEY_ID === undefined) !== (raw.KMS_SECRET_ACCESS_KEY === undefined)) {
    problems.push("KMS_ACCESS_KEY_ID and KMS_SECRET_ACCESS_KEY must be set together (or neither, for the AWS SDK's default credentials)");
  }
  if (purpose === "keyservice") {
    // The stand-alone key service has no sign-in; it needs a database and the KMS principal.
    if (raw.DATABASE_URL === undefined) problems.push("DATABASE_URL is required: the key service shares the console's PostgreSQL database");
    if (raw.KMS_VENDOR_PRINCIPAL_ARN === undefined) problems.push("KMS_VENDOR_PRINCIPAL_ARN is required (the AWS principal tenants grant access to)");
    return problems;
  }
  const oidc = ["OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"];
  const set = oidc.filter((name) => raw[name] !== undefined);
  if (set.length > 0 && set.length < oidc.length) {
    for (const name of oidc) {
      if (raw[name] === undefined) problems.push(`${name} must be set together with the other OIDC_* variables`);
    }
  }
  if (set.length === oidc.length && raw.KMS_VENDOR_PRINCIPAL_ARN === undefined) {
    problems.push("KMS_VENDOR_PRINCIPAL_ARN is required outside demo mode (the AWS principal tenants grant access to)");
  }
  if (set.length === 0 && raw.DATABASE_URL !== undefined && raw.CUSTODY_DEMO !== "true") {
    problems.push(
      "OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are required when DATABASE_URL is set: without them Custody would start its demo sign-in (public passwords) against that database",
    );
  }
  if (raw.AUDIT_SIGNING_KEY !== undefined && raw.AUDIT_SIGNING_KEY_FILE !== undefined) {
    problems.push("AUDIT_SIGNING_KEY and AUDIT_SIGNING_KEY_FILE are alternatives: set one of them");
  }
  if (raw.AUDIT_TRUSTED_PUBLIC_KEYS !== undefined && raw.AUDIT_TRUSTED_PUBLIC_KEYS_FILE !== undefined) {
    problems.push("AUDIT_TRUSTED_PUBLIC_KEYS and AUDIT_TRUSTED_PUBLIC_KEYS_FILE are alternatives: set one of them");
  }
  if (set.length === oidc.length && raw.AUDIT_SIGNING_KEY === undefined && raw.AUDIT_SIGNING_KEY_FILE === undefined) {
    problems.push(
      "AUDIT_SIGNING_KEY (or AUDIT_SIGNING_KEY_FILE) is required outside demo mode: the Ed25519 key that signs audit checkpoints (create one with: openssl genpkey -algorithm ed25519)",
    );
  }
  if (raw.SINK_SECRET_KEY !== undefined && raw.SINK_SECRET_KEY_FILE !== undefined) {
    problems.push("SINK_SECRET_KEY and SINK_SECRET_KEY_FILE are alternatives: set one of them");
  }
  if (set.length === oidc.length && raw.SINK_SECRET_KEY === undefined && raw.SINK_SECRET_KEY_FILE === undefined) {
    problems.push(
      "SINK_SECRET_KEY (or SINK_SECRET_KEY_FILE) is required outside demo mode: the key that encrypts log-sink secrets at rest (create one with: openssl rand -base64 32)",
    );
  }
  if (set.length === oidc.length) {
    if (raw.NEXTAUTH_SECRET === undefined) problems.push("NEXTAUTH_SECRET is required when an OIDC identity provider is configured");
    if (raw.NEXTAUTH_URL === undefined)
      problems.push("NEXTAUTH_URL is required when an OIDC identity provider is configured (the public URL of Custody)");
  }
  return problems;
}

export type Env = z.output<typeof baseSchema>;

/** What is starting: the whole of Custody (`npm start`) or only the key service (`npm run keyservice`). */
export type Purpose = "custody" | "keyservice";

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Parses the environment; throws ConfigError listing every problem (values are not echoed). */
export function parseEnv(source: Record<string, string | undefined> = process.env, purpose: Purpose = "custody"): Env {
  const relevant: Record<string, string | undefined> = Object.fromEntries(
    Object.keys(baseSchema.shape).map((k) => [k, source[k] === "" ? undefined : source[k]]),
  );
  const result = baseSchema.safeParse(relevant);
  const problems = [
    ...(result.success ? [] : result.error.issues.map((i) => `${i.path.join(".") || "environment"} ${i.message}`)),
    ...crossChecks(relevant, purpose),
  ];
  if (!result.success || problems.length > 0) throw new ConfigError(problems);
  return result.data;
}

/** Demo mode: no identity provider configured, so the development IdP is started. */
export function isDemoMode(env: Env): boolean {
  return env.OIDC_ISSUER === undefined;
}
