// What the deployment allows sinks to reach, from the environment (validated by lib/config at
// start). The demo reaches private addresses and plain http://, so local receivers work; it says
// so with both flags (lib/server/start-custody.ts), since it sets OIDC_ISSUER for its own IdP.
// Without the flags, a process with no identity provider configured (tests, scripts) counts as
// the demo. Production does neither unless told to.

export type SinkPolicy = {
  /** The SSRF guard off: receivers on private, loopback and link-local addresses may be reached. */
  allowPrivateTargets: boolean;
  /** Webhook and HEC URLs may be http:// (events would cross the network unencrypted). */
  allowHttp: boolean;
  /** A batch still failing this long after its first attempt is marked failed. */
  maxAgeMs: number;
};

function flag(value: string | undefined): boolean | undefined {
  if (value === undefined || value === "") return undefined;
  return ["true", "1", "yes"].includes(value);
}

export function sinkPolicy(env: Record<string, string | undefined> = process.env): SinkPolicy {
  const demo = !env.OIDC_ISSUER;
  const allowPrivateTargets = flag(env.SINK_ALLOW_PRIVATE_TARGETS) ?? demo;
  return {
    allowPrivateTargets,
    allowHttp: flag(env.SINK_ALLOW_HTTP) ?? demo,
    maxAgeMs: Number(env.SINK_DELIVERY_MAX_AGE_HOURS || 24) * 3_600_000,
  };
}
