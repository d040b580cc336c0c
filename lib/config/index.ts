import { z } from "zod";
import { demoPartsInProduction } from "./demo-boundary";
import { environmentVariables, type RawEnvironment } from "./environment";
import { bool, httpUrl, port, postgresUrl, seconds } from "./fields";
import { KMS_PROVIDER_CHECKS, KMS_PROVIDER_VARIABLES } from "./providers";

// Every setting Custody reads from the environment, validated once. A missing or malformed
// value stops start-up with a message naming the variable; secret values are never echoed.
// This module owns the raw, typed settings and imports no domain module: what a value means
// (a PEM key, a sealing key) is for its owner to interpret (lib/audit, lib/sinks), and start-up
// passes those interpretations in as checks (lib/server/load-config.ts).

const baseSchema = z.object({
    PORT: port.default(3000),
    HOST: z.string().min(1).optional(),
    DATABASE_URL: postgresUrl.optional(),
    /** A streaming replica of DATABASE_URL for the heavy console reads (audit pages, exports, usage); unset: everything reads the primary. */
    DATABASE_READ_URL: postgresUrl.optional(),
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
    /** How long the console's Verify keeps retrying a refusal that may be AWS still applying a new grant or policy. */
    KMS_VERIFY_WAIT_SECONDS: z.coerce.number({ message: "must be a number of seconds" }).int("must be a whole number").min(0, "must be at least 0").max(900, "must be at most 900").default(300),
    DEV_KMS_PORT: port.default(4566),
    /** The demo's development Azure Key Vault (HTTPS): token endpoint, vaults and Managed HSMs on one port. */
    DEV_AZURE_KV_PORT: port.default(4443),
    /** How long a key-service instance keeps a tenant key unwrapped before asking the KMS again. */
    KEY_LEASE_SECONDS: z.coerce.number({ message: "must be a number of seconds" }).int("must be a whole number").min(1, "must be at least 1").max(86_400, "must be at most 86400 (a day)").default(300),
    /** Port of the stand-alone key service (`npm run keyservice`); `npm start` serves /api/v1 on PORT. */
    KEYSERVICE_PORT: z.coerce.number({ message: "must be a port number" }).int("must be a whole number").min(0, "must be between 0 (any free port) and 65535").max(65535, "must be between 0 (any free port) and 65535").default(3002),
    /** Processes of the stand-alone key service (node:cluster workers sharing KEYSERVICE_PORT); unset: one per available core. */
    KEYSERVICE_WORKERS: z.coerce.number({ message: "must be a number of processes" }).int("must be a whole number").min(1, "must be at least 1").max(64, "must be at most 64").optional(),
    /** Ed25519 key (PKCS#8 PEM) that signs audit checkpoints; or AUDIT_SIGNING_KEY_FILE, a path to one. Required in production. */
    AUDIT_SIGNING_KEY: z.string().optional(),
    AUDIT_SIGNING_KEY_FILE: z.string().min(1).optional(),
    /** Public keys (PEM) of previous signing keys, whose checkpoints still verify after a rotation; or AUDIT_TRUSTED_PUBLIC_KEYS_FILE. */
    AUDIT_TRUSTED_PUBLIC_KEYS: z.string().optional(),
    AUDIT_TRUSTED_PUBLIC_KEYS_FILE: z.string().min(1).optional(),
    /** How often chains whose head moved get a new signed checkpoint. */
    AUDIT_CHECKPOINT_INTERVAL_MINUTES: z.coerce.number({ message: "must be a number of minutes" }).int("must be a whole number").min(1, "must be at least 1").max(10_080, "must be at most 10080 (a week)").default(60),
    /** Events older than this many days are pruned (lib/audit/prune.ts); unset keeps the trail forever. */
    AUDIT_RETENTION_DAYS: z.coerce.number({ message: "must be a number of days" }).int("must be a whole number").min(1, "must be at least 1").max(36_500, "must be at most 36500").optional(),
    /** AES-256-GCM key sealing log-sink secrets (32 random bytes, base64); or SINK_SECRET_KEY_FILE. Required in production. */
    SINK_SECRET_KEY: z.string().optional(),
    SINK_SECRET_KEY_FILE: z.string().min(1).optional(),
    /** Keys used before a rotation, comma-separated, so secrets they sealed still open. */
    SINK_SECRET_PREVIOUS_KEYS: z.string().optional(),
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
    /** Refused console actions allowed per person per window, then every action of theirs is refused until it ends. */
    CONSOLE_REFUSALS_PER_USER: z.coerce.number({ message: "must be a number" }).int("must be a whole number").min(1, "must be at least 1").max(100_000, "must be at most 100000").default(30),
    CONSOLE_REFUSAL_WINDOW_SECONDS: seconds(1, 3600).default(60),
    /** Sign-in starts (a redirect to the identity provider) allowed per client address per window, then 429 until it ends. */
    SIGN_IN_ATTEMPTS_PER_IP: z.coerce.number({ message: "must be a number" }).int("must be a whole number").min(1, "must be at least 1").max(100_000, "must be at most 100000").default(30),
    /** Failed or refused sign-ins (a callback that does not end in a session) allowed per client address per window. */
    SIGN_IN_FAILURES_PER_IP: z.coerce.number({ message: "must be a number" }).int("must be a whole number").min(1, "must be at least 1").max(100_000, "must be at most 100000").default(10),
    SIGN_IN_WINDOW_SECONDS: seconds(1, 3600).default(60),
    /** How long an invitation (a new member, a new tenant's first admin) stays usable before its person first signs in. */
    INVITATION_DAYS: z.coerce.number({ message: "must be a number of days" }).int("must be a whole number").min(1, "must be at least 1").max(90, "must be at most 90").default(7),
    /** "Send test event" allowed per log sink per minute (each one connects to the receiver and is audited). */
    SINK_TESTS_PER_MINUTE: z.coerce.number({ message: "must be a number" }).int("must be a whole number").min(1, "must be at least 1").max(10_000, "must be at most 10000").default(6),
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
    /** pino's level for the structured log on stdout. */
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], { message: "must be fatal, error, warn, info, debug, trace or silent" }).default("info"),
    /** The Chromium that renders the app icons (scripts/render-icons.ts). */
    CHROMIUM_PATH: z.string().min(1).default("/usr/bin/chromium"),
    ...KMS_PROVIDER_VARIABLES,
});

/** Rules across variables, checked on the raw values so they are reported alongside format errors. */
function crossChecks(raw: Record<string, string | undefined>, purpose: Purpose): string[] {
  const problems: string[] = [];
  if (purpose === "library") return problems;
  if (Number(raw.HTTP_HEADERS_TIMEOUT_SECONDS ?? 10) > Number(raw.HTTP_REQUEST_TIMEOUT_SECONDS ?? 30)) {
    problems.push("HTTP_HEADERS_TIMEOUT_SECONDS must not be larger than HTTP_REQUEST_TIMEOUT_SECONDS (the head is part of the request)");
  }
  const oidc = ["OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"];
  const set = oidc.filter((name) => raw[name] !== undefined);
  const production = set.length === oidc.length;
  for (const check of KMS_PROVIDER_CHECKS) problems.push(...check(raw, { keyService: purpose === "keyservice", production }));
  if (purpose === "keyservice") {
    // The stand-alone key service has no sign-in; it needs a database (and its KMS settings, above).
    if (raw.DATABASE_URL === undefined) problems.push("DATABASE_URL is required: the key service shares the console's PostgreSQL database");
    problems.push(...demoPartsInProduction(raw, true));
    return problems;
  }
  problems.push(...demoPartsInProduction(raw, production));
  if (set.length > 0 && set.length < oidc.length) {
    for (const name of oidc) {
      if (raw[name] === undefined) problems.push(`${name} must be set together with the other OIDC_* variables`);
    }
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

/** The configuration a process runs with: built once at start, frozen, then only read. */
export type Config = Readonly<Env>;

/**
 * What is starting: the whole of Custody (`npm start`), only the key service (`npm run
 * keyservice`), or nothing in particular ("library": a script or test that uses some modules),
 * for which each value is checked but the rules across variables (start-up's) are not.
 */
export type Purpose = "custody" | "keyservice" | "library";

/**
 * What a value means, checked by its owner: a function that throws an Error whose message
 * follows the variable's name ("must be an Ed25519 key, not rsa"). Start-up passes these in
 * (lib/server/load-config.ts), so bad key material stops it like a malformed port does.
 */
export type ValueChecks = Partial<Record<keyof Env, (value: string) => unknown>>;

export class ConfigError extends Error {
  constructor(
    readonly problems: string[],
    subject = "configuration",
  ) {
    super(`Invalid ${subject}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/**
 * Parses the variables a schema names from `source` (an empty value counts as unset); throws
 * ConfigError naming each bad variable. Values are never echoed: some are secrets.
 */
export function parseVariables<S extends z.ZodObject>(
  schema: S,
  source: RawEnvironment,
  options: { subject?: string; checks?: Partial<Record<string, (value: string) => unknown>>; crossChecks?: (raw: Record<string, string | undefined>) => string[] } = {},
): z.output<S> {
  const relevant: Record<string, string | undefined> = Object.fromEntries(
    Object.keys(schema.shape).map((k) => [k, source[k] === "" ? undefined : source[k]]),
  );
  const result = schema.safeParse(relevant);
  const problems = result.success ? [] : result.error.issues.map((i) => `${i.path.join(".") || "environment"} ${i.message}`);
  for (const [name, check] of Object.entries(options.checks ?? {})) {
    const value = relevant[name];
    if (value === undefined || !check || problems.some((p) => p.startsWith(`${name} `))) continue;
    try {
      check(value);
    } catch (error) {
      problems.push(`${name} ${(error as Error).message}`);
    }
  }
  problems.push(...(options.crossChecks?.(relevant) ?? []));
  if (!result.success || problems.length > 0) throw new ConfigError(problems, options.subject);
  return result.data;
}

/** Parses Custody's settings; throws ConfigError listing every problem (values are not echoed). */
export function parseEnv(source: RawEnvironment, purpose: Purpose = "custody", checks: ValueChecks = {}): Env {
  return parseVariables(baseSchema, source, { checks, crossChecks: (raw) => crossChecks(raw, purpose) });
}

/** Every problem parseEnv would report (none: the source is a valid configuration). */
export function configProblems(source: RawEnvironment, purpose: Purpose = "custody", checks: ValueChecks = {}): string[] {
  try {
    parseEnv(source, purpose, checks);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

/** Demo mode: no identity provider configured, so the development IdP is started. */
export function isDemoMode(env: Env): boolean {
  return env.OIDC_ISSUER === undefined;
}

/** A configuration that cannot change: the object and its one array frozen. */
export function freezeConfig(env: Env): Config {
  return Object.freeze({ ...env, CUSTODY_VENDOR_ADMINS: Object.freeze([...env.CUSTODY_VENDOR_ADMINS]) as string[] });
}

export type LoadOptions = {
  /** Values used where the environment sets none (a test server's shorter waits). */
  defaults?: Readonly<Record<string, string>>;
  /** Values that replace the environment's (the e2e server's own database). */
  overrides?: Readonly<Record<string, string>>;
  checks?: ValueChecks;
};

/** Builds the configuration from the process environment: what entry points do first. */
export function loadConfig(purpose: Purpose, options: LoadOptions = {}): Config {
  const source = { ...options.defaults, ...definedOnly(environmentVariables()), ...options.overrides };
  return freezeConfig(parseEnv(source, purpose, options.checks));
}

function definedOnly(source: RawEnvironment): Record<string, string> {
  return Object.fromEntries(Object.entries(source).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ""));
}

// One configuration per process, shared through globalThis: `npm start` loads this module twice
// (its own modules, and Next's bundle of them), and both must see what start-up installed.
const globalForConfig = globalThis as unknown as { custodyConfig?: Config };

/** Makes `config` the process's configuration (entry points, once they have composed it). */
export function installConfig(config: Env): Config {
  globalForConfig.custodyConfig = Object.isFrozen(config) ? config : freezeConfig(config);
  return globalForConfig.custodyConfig;
}

/** Drops the installed configuration (tests that install one). */
export function forgetConfig(): void {
  globalForConfig.custodyConfig = undefined;
}

/**
 * The process's configuration. An entry point (`npm start`, the scripts) installs it at start;
 * a process none started (the test runner, `next build`) gets the environment as it is when
 * asked, each value checked.
 */
export function getConfig(): Config {
  return globalForConfig.custodyConfig ?? loadConfig("library");
}
