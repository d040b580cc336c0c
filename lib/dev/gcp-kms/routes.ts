import { decrypt, encrypt } from "./crypto-ops";
import { GoogleApiError, invalidArgument } from "./errors";
import type { Caller } from "./iam";
import { renderKey, renderPolicy, renderVersion } from "./render";
import { versionStateOf, type GcpKeyStore } from "./store";

// Cloud KMS v1's REST paths for what Custody and a customer's administrator use, each with
// its HTTP method (the google.api.http rules of google/cloud/kms/v1/service.proto and
// google/iam/v1/iam_policy.proto).

export type Request = { method: string; params: URLSearchParams; body: Record<string, unknown> };
type Handler = (store: GcpKeyStore, caller: Caller, match: string[], req: Request) => unknown;
type Route = { method: string; name: string; pattern: RegExp; handle: Handler; /** Changes resources (saved after it, when the server keeps them on disk). */ changes: boolean };

/** Methods that read or use resources without changing them. */
const READS = new Set(["GetCryptoKey", "Encrypt", "Decrypt", "GetIamPolicy", "ListCryptoKeyVersions", "GetCryptoKeyVersion"]);

const ID = "[a-zA-Z0-9_-]{1,63}";
const LOCATION = `projects/${ID}/locations/${ID}`;
const KEY_RING = `${LOCATION}/keyRings/${ID}`;
const CRYPTO_KEY = `${KEY_RING}/cryptoKeys/${ID}`;

const route = (method: string, name: string, path: string, handle: Handler): Route => ({
  method,
  name,
  pattern: new RegExp(`^/v1/${path}$`),
  handle,
  changes: !READS.has(name),
});

function idParam(params: URLSearchParams, name: string): string {
  const id = params.get(name) ?? "";
  if (!new RegExp(`^${ID}$`).test(id)) throw invalidArgument(`${name} must be 1-63 letters, digits, '-' or '_'.`);
  return id;
}

const versionId = (match: string[]) => Number(match[2]);

export const ROUTES: readonly Route[] = [
  route("POST", "CreateKeyRing", `(${LOCATION})/keyRings`, (s, c, m, r) => {
    const ring = s.createKeyRing(c, m[1]!, idParam(r.params, "keyRingId"));
    return { name: ring.name, createTime: ring.createTime.toISOString() };
  }),
  route("POST", "CreateCryptoKey", `(${KEY_RING})/cryptoKeys`, (s, c, m, r) => {
    const purpose = r.body.purpose;
    if (purpose !== "ENCRYPT_DECRYPT" && purpose !== 1) throw invalidArgument("The development Cloud KMS makes only ENCRYPT_DECRYPT keys.");
    return renderKey(s.createCryptoKey(c, m[1]!, idParam(r.params, "cryptoKeyId")));
  }),
  route("GET", "GetCryptoKey", `(${CRYPTO_KEY})`, (s, c, m) => renderKey(s.key(c, m[1]!, "cloudkms.cryptoKeys.get"))),
  route("POST", "Encrypt", `(${CRYPTO_KEY}):encrypt`, (s, c, m, r) => encrypt(s, c, m[1]!, r.body)),
  route("POST", "Decrypt", `(${CRYPTO_KEY}):decrypt`, (s, c, m, r) => decrypt(s, c, m[1]!, r.body)),
  route("POST", "UpdateCryptoKeyPrimaryVersion", `(${CRYPTO_KEY}):updatePrimaryVersion`, (s, c, m, r) =>
    renderKey(s.updatePrimary(c, m[1]!, Number(r.body.cryptoKeyVersionId))),
  ),
  // Cloud KMS's own rule is GET; the IAM client's generic rule (google/iam/v1) POSTs.
  route("GET", "GetIamPolicy", `(${CRYPTO_KEY}):getIamPolicy`, (s, c, m) => renderPolicy(s.getPolicy(c, m[1]!))),
  route("POST", "GetIamPolicy", `(${CRYPTO_KEY}):getIamPolicy`, (s, c, m) => renderPolicy(s.getPolicy(c, m[1]!))),
  route("POST", "SetIamPolicy", `(${CRYPTO_KEY}):setIamPolicy`, (s, c, m, r) => {
    const policy = r.body.policy;
    if (typeof policy !== "object" || policy === null) throw invalidArgument("policy is required.");
    return renderPolicy(s.setPolicy(c, m[1]!, policy));
  }),
  route("GET", "ListCryptoKeyVersions", `(${CRYPTO_KEY})/cryptoKeyVersions`, (s, c, m) => {
    const key = s.key(c, m[1]!, "cloudkms.cryptoKeyVersions.list");
    const versions = [...key.versions.values()].map((v) => renderVersion(key, v));
    return { cryptoKeyVersions: versions, totalSize: versions.length };
  }),
  route("POST", "CreateCryptoKeyVersion", `(${CRYPTO_KEY})/cryptoKeyVersions`, (s, c, m) => {
    const { key, version } = s.createVersion(c, m[1]!);
    return renderVersion(key, version);
  }),
  route("GET", "GetCryptoKeyVersion", `(${CRYPTO_KEY})/cryptoKeyVersions/(\\d{1,9})`, (s, c, m) => {
    const { key, version } = s.version(c, m[1]!, versionId(m), "cloudkms.cryptoKeyVersions.get");
    return renderVersion(key, version);
  }),
  route("PATCH", "UpdateCryptoKeyVersion", `(${CRYPTO_KEY})/cryptoKeyVersions/(\\d{1,9})`, (s, c, m, r) => {
    if (r.params.get("updateMask") !== "state") throw invalidArgument("The development Cloud KMS updates only state (updateMask=state).");
    const { key, version } = s.setState(c, m[1]!, versionId(m), versionStateOf(r.body.state));
    return renderVersion(key, version);
  }),
  route("POST", "DestroyCryptoKeyVersion", `(${CRYPTO_KEY})/cryptoKeyVersions/(\\d{1,9}):destroy`, (s, c, m) => {
    const { key, version } = s.destroy(c, m[1]!, versionId(m));
    return renderVersion(key, version);
  }),
  route("POST", "RestoreCryptoKeyVersion", `(${CRYPTO_KEY})/cryptoKeyVersions/(\\d{1,9}):restore`, (s, c, m) => {
    const { key, version } = s.restore(c, m[1]!, versionId(m));
    return renderVersion(key, version);
  }),
];

/** The route for a request, with its path matches; NOT_FOUND (404, as Google's front end) when none. */
export function findRoute(method: string, path: string): { route: Route; match: string[] } {
  for (const candidate of ROUTES) {
    const match = candidate.pattern.exec(path);
    if (match && candidate.method === method) return { route: candidate, match: [...match] };
  }
  throw new GoogleApiError("NOT_FOUND", `The requested URL ${path} was not found on this server.`);
}
