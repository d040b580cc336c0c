// Demo parts stay in the demo. The development identity provider admits anyone with a public
// password and the development KMS keeps its keys in a file: a production start (an identity
// provider configured, or the stand-alone key service) must never trust either, nor seed the
// demo's people. Demo mode is on only when it is asked for: nothing configured (`npm start`'s
// embedded default) or CUSTODY_DEMO=true (tests). Anything else that points at a development
// server's port on this machine, or asks for the demo seed, stops start-up with a message.

type Raw = Readonly<Record<string, string | undefined>>;

const LOOPBACK_NAMES = new Set(["localhost", "[::1]", "::1", "0.0.0.0", "[::]"]);

/** The port a URL reaches on this machine, or null when the URL names another host (or is no URL). */
function localPortOf(value: string | undefined): number | null {
  if (value === undefined) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  const host = url.hostname.toLowerCase();
  const local = LOOPBACK_NAMES.has(host) || host.endsWith(".localhost") || /^127\.\d+\.\d+\.\d+$/.test(host);
  if (!local) return null;
  return Number(url.port || (url.protocol === "https:" ? 443 : 80));
}

/** Whether a raw boolean variable is set to true (lib/config's spellings). */
function isTrue(value: string | undefined): boolean {
  return value === "true" || value === "1" || value === "yes";
}

/**
 * The problems of a production start that would use a demo part. `production`: an identity
 * provider is configured (npm start), or the stand-alone key service is starting.
 */
export function demoPartsInProduction(raw: Raw, production: boolean): string[] {
  if (!production) return [];
  const problems: string[] = [];
  const idpPort = Number(raw.DEV_IDP_PORT ?? 3001);
  const kmsPort = Number(raw.DEV_KMS_PORT ?? 4566);
  if (localPortOf(raw.OIDC_ISSUER) === idpPort) {
    problems.push(
      `OIDC_ISSUER points at the development identity provider's port on this machine (DEV_IDP_PORT ${idpPort}): its passwords are public, so a production start never trusts it. Point OIDC_ISSUER at your identity provider, or unset the OIDC_* variables to run the demo`,
    );
  }
  if (localPortOf(raw.KMS_ENDPOINT) === kmsPort) {
    problems.push(
      `KMS_ENDPOINT points at the development KMS's port on this machine (DEV_KMS_PORT ${kmsPort}): it keeps keys in a local file, so a production start never uses it. Unset KMS_ENDPOINT for AWS KMS, or run the demo`,
    );
  }
  if (isTrue(raw.CUSTODY_SEED_DEMO)) {
    problems.push("CUSTODY_SEED_DEMO would add the demo's people (public passwords) to a production database: it is for demo mode only");
  }
  if (isTrue(raw.CUSTODY_DEMO)) {
    problems.push("CUSTODY_DEMO runs the demo's own identity provider and KMS: unset it, or unset the OIDC_* variables");
  }
  return problems;
}
