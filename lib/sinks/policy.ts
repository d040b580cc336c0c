import { type Config, getConfig } from "@/lib/config";

// What the deployment allows sinks to reach, from the configuration (lib/config). The demo reaches private addresses and plain http://, so local receivers work; it says
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

export function sinkPolicy(config: Config = getConfig()): SinkPolicy {
  const demo = !config.OIDC_ISSUER;
  return {
    allowPrivateTargets: config.SINK_ALLOW_PRIVATE_TARGETS ?? demo,
    allowHttp: config.SINK_ALLOW_HTTP ?? demo,
    maxAgeMs: config.SINK_DELIVERY_MAX_AGE_HOURS * 3_600_000,
  };
}
