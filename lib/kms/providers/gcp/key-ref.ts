// A Cloud KMS key reference: the crypto key's resource name,
// projects/<project>/locations/<location>/keyRings/<key ring>/cryptoKeys/<key>. Custody always
// encrypts with the key's primary version, so a version's name is refused (with what to give
// instead), as is anything else, with a message that says which part is wrong.

export type GcpKeyRef = { name: string; project: string; location: string; keyRing: string; cryptoKey: string };

export class GcpKeyRefError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GcpKeyRefError";
  }
}

const EXAMPLE = "projects/acme-prod/locations/europe-west1/keyRings/custody/cryptoKeys/tenant-key";
const PROJECT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const LOCATION = /^[a-z][a-z0-9-]{0,62}$/;
const RESOURCE_ID = /^[a-zA-Z0-9_-]{1,63}$/;
/** Resource names are short; anything longer is not one (and is not worth echoing). */
const MAX_LENGTH = 512;

const fail = (message: string): never => {
  throw new GcpKeyRefError(message);
};

export function parseGcpKeyRef(input: string): GcpKeyRef {
  const text = input.trim().replace(/^\/\/cloudkms\.googleapis\.com\//, "");
  if (text.length === 0) fail(`Enter the key's resource name, like ${EXAMPLE}.`);
  if (text.length > MAX_LENGTH) fail(`A Cloud KMS key name is at most ${MAX_LENGTH} characters.`);
  if (/\/cryptoKeyVersions(\/|$)/.test(text)) {
    fail("That names a key version. Give the key's name without /cryptoKeyVersions/…: Custody always encrypts with the key's primary version.");
  }
  const parts = text.split("/");
  const labels = ["projects", "locations", "keyRings", "cryptoKeys"];
  if (parts.length !== 8 || labels.some((label, i) => parts[i * 2] !== label)) {
    fail(`A Cloud KMS key name has the form projects/<project>/locations/<location>/keyRings/<key ring>/cryptoKeys/<key>, like ${EXAMPLE}.`);
  }
  const [, project, , location, , keyRing, , cryptoKey] = parts as [string, string, string, string, string, string, string, string];
  if (!PROJECT.test(project)) fail("The project must be a project ID: 6-30 lowercase letters, digits or hyphens, starting with a letter (not the project number or display name).");
  if (!LOCATION.test(location)) fail("The location must be a Cloud KMS location such as global, europe-west1 or us.");
  if (!RESOURCE_ID.test(keyRing)) fail("The key ring must be 1-63 letters, digits, '-' or '_'.");
  if (!RESOURCE_ID.test(cryptoKey)) fail("The key must be 1-63 letters, digits, '-' or '_'.");
  return { name: parts.join("/"), project, location, keyRing, cryptoKey };
}
