import { versionName, type CryptoKey, type CryptoKeyVersion, type IamPolicy } from "./model";

// Resources as Cloud KMS's REST API returns them (proto3 JSON: lowerCamelCase, enums by name,
// RFC 3339 timestamps, bytes in base64).

export function renderVersion(key: CryptoKey, version: CryptoKeyVersion) {
  return {
    name: versionName(key, version.id),
    state: version.state,
    protectionLevel: "SOFTWARE",
    algorithm: "GOOGLE_SYMMETRIC_ENCRYPTION",
    createTime: version.createTime.toISOString(),
    generateTime: version.createTime.toISOString(),
    ...(version.destroyTime ? { destroyTime: version.destroyTime.toISOString() } : {}),
  };
}

export function renderKey(key: CryptoKey) {
  const primary = key.primary === null ? undefined : key.versions.get(key.primary);
  return {
    name: key.name,
    ...(primary ? { primary: renderVersion(key, primary) } : {}),
    purpose: "ENCRYPT_DECRYPT",
    createTime: key.createTime.toISOString(),
    versionTemplate: { protectionLevel: "SOFTWARE", algorithm: "GOOGLE_SYMMETRIC_ENCRYPTION" },
    destroyScheduledDuration: "2592000s",
  };
}

export const renderPolicy = (policy: IamPolicy) => ({ version: policy.version, bindings: policy.bindings, etag: policy.etag });
