import { z } from "zod";
import { httpUrl } from "../fields";

// Google Cloud KMS's settings (lib/kms/providers/gcp reads them through getConfig()). The
// provider is offered once Custody's service account is known: named, or read from its key file.

export const GCP_KMS_VARIABLES = {
  /** Custody's Google service-account key file (JSON); unset: Google's application default credentials. */
  GCP_KMS_CREDENTIALS_FILE: z.string().min(1).optional(),
  /** Custody's Google service account (the member tenants bind); by default the key file's client_email. */
  GCP_KMS_SERVICE_ACCOUNT: z.string().email("must be a service account's email, like custody@vendor-project.iam.gserviceaccount.com").optional(),
  /** Cloud KMS's endpoint, only for a Private Service Connect endpoint or the development Cloud KMS. */
  GCP_KMS_ENDPOINT: httpUrl.optional(),
};
