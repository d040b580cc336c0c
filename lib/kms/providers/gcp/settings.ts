import type { Config } from "@/lib/config";
import { readKeyFile } from "@/lib/utils/key-file";
import type { GcpKmsConfig, GcpServiceAccountKey } from "./client";

// Custody's side of Cloud KMS, from the configuration: its service account (the member
// tenants bind), its key file (or Google's application default credentials, e.g. workload
// identity), and the endpoint (Cloud KMS's own unless configured).

const PRIVATE_KEY = /^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n?$/;

/** A service-account key file's fields Custody uses; the error never quotes the file. */
export function parseServiceAccountKey(text: string): GcpServiceAccountKey {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error("is not JSON: download the service account's key as JSON (gcloud iam service-accounts keys create)");
  }
  const { type, client_email, private_key, private_key_id, project_id } = json;
  if (type !== "service_account" || typeof client_email !== "string" || typeof private_key !== "string" || !PRIVATE_KEY.test(private_key)) {
    throw new Error("is not a service-account key file (type service_account, client_email and a PEM private_key)");
  }
  return {
    client_email,
    private_key,
    ...(typeof private_key_id === "string" ? { private_key_id } : {}),
    ...(typeof project_id === "string" ? { project_id } : {}),
  };
}

/** Reads Custody's key file (GCP_KMS_CREDENTIALS_FILE); start-up checks it, so a bad file stops Custody at once. */
export const readGcpKeyFile = (file: string): GcpServiceAccountKey => readKeyFile(file, parseServiceAccountKey);

export type GcpKmsSettings = {
  client: GcpKmsConfig;
  /** Custody's service account, or undefined when neither GCP_KMS_SERVICE_ACCOUNT nor a key file names it. */
  serviceAccount: string | undefined;
};

export function gcpKmsSettings(config: Config): GcpKmsSettings {
  const credentials = config.GCP_KMS_CREDENTIALS_FILE ? readGcpKeyFile(config.GCP_KMS_CREDENTIALS_FILE) : undefined;
  return {
    serviceAccount: config.GCP_KMS_SERVICE_ACCOUNT ?? credentials?.client_email,
    client: { credentials, endpoint: config.GCP_KMS_ENDPOINT, maxAttempts: config.KMS_MAX_ATTEMPTS, requestTimeoutMs: 5_000 },
  };
}
