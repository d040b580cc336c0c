import { AppError, type ErrorCode } from "@/lib/errors";
import type { KmsError } from "@/lib/kms";

// How a KMS failure is named to the vendor's application: the error code (which decides the
// HTTP status and Retry-After) and a message that says whose side must act.

export function kmsErrorCode(error: KmsError): ErrorCode {
  if (error.kind === "throttled") return "kms_throttled";
  // A proxy or endpoint answering instead of KMS is a path problem, like an unreachable KMS.
  if (error.kind === "unreachable" || error.kind === "bad_response") return "kms_unreachable";
  return "kms_denied";
}

/** Refusals that are the vendor's to fix (its own role, credentials or quota), not the tenant's. */
const VENDOR_SIDE: ReadonlySet<KmsError["kind"]> = new Set(["credentials", "access_denied_vendor", "quota"]);

/** Said to the vendor's application (the tenant's admins see the KMS's own reason on their key page). */
export function kmsAppError(error: KmsError): AppError {
  const code = kmsErrorCode(error);
  if (code === "kms_throttled") return new AppError(code, "The tenant's KMS is throttling Custody. Retry after the Retry-After delay.");
  if (code === "kms_unreachable") return new AppError(code, "Custody could not reach the tenant's KMS. Retry after the Retry-After delay.");
  if (VENDOR_SIDE.has(error.kind)) {
    return new AppError(
      code,
      "KMS refused Custody because of the vendor's own cloud set-up (its credentials, its identity's permissions, or a quota): a configuration problem on the vendor's side, not the tenant's.",
    );
  }
  return new AppError(
    code,
    "The tenant's KMS refused Custody: the key is disabled or scheduled for deletion, or its policy or grant no longer admits Custody. Only the tenant can change that; its admins see the reason on their key page.",
  );
}
