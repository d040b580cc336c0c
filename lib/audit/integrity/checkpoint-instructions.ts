// How a tenant checks a downloaded checkpoint with openssl alone (OpenSSL 3.0 or later; jq and
// base64 for taking the JSON apart). Shown on the integrity page; the integration test runs
// exactly these commands.

export const PUBLIC_KEY_FILE = "custody-audit-public-key.pem";

/** The name a downloaded checkpoint gets: the tenant's URL name and the event number it signs. */
export const checkpointFileName = (slug: string, seq: bigint | string): string => `custody-checkpoint-${slug}-${seq.toString()}.json`;

export const OPENSSL_COMMANDS = (checkpointFile: string): string =>
  [
    `jq -j .statement ${checkpointFile} > statement.txt`,
    `jq -r .signature ${checkpointFile} | base64 -d > signature.bin`,
    `openssl pkeyutl -verify -pubin -inkey ${PUBLIC_KEY_FILE} -rawin -in statement.txt -sigfile signature.bin`,
  ].join("\n");
