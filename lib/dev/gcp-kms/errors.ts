// Errors as Google's REST APIs carry them: the HTTP status and a JSON body
// {"error": {"code": <http status>, "message": "...", "status": "<canonical code>"}}. The client
// library (google-gax's REST transport) turns `status` into the gRPC code it throws with.

export type GoogleStatus =
  | "INVALID_ARGUMENT"
  | "FAILED_PRECONDITION"
  | "UNAUTHENTICATED"
  | "PERMISSION_DENIED"
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "ABORTED"
  | "RESOURCE_EXHAUSTED"
  | "UNIMPLEMENTED"
  | "INTERNAL"
  | "UNAVAILABLE";

const HTTP_STATUS: Record<GoogleStatus, number> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  ABORTED: 409,
  RESOURCE_EXHAUSTED: 429,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};

export class GoogleApiError extends Error {
  constructor(
    readonly status: GoogleStatus,
    message: string,
  ) {
    super(message);
    this.name = status;
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.status];
  }

  body(): { error: { code: number; message: string; status: GoogleStatus } } {
    return { error: { code: this.httpStatus, message: this.message, status: this.status } };
  }
}

export const invalidArgument = (message: string) => new GoogleApiError("INVALID_ARGUMENT", message);
export const notFound = (name: string) => new GoogleApiError("NOT_FOUND", `${name} not found.`);

/** Cloud KMS answers a missing permission, and a resource the caller may not see, alike. */
export const permissionDenied = (permission: string, resource: string) =>
  new GoogleApiError("PERMISSION_DENIED", `Permission '${permission}' denied on resource '${resource}' (or it may not exist).`);

/** A version in the wrong state, worded as Cloud KMS words it. */
export const wrongState = (versionName: string, state: string) =>
  new GoogleApiError(
    "FAILED_PRECONDITION",
    `The request cannot be fulfilled. Resource ${versionName} has value ${state} in field crypto_key_version.state.`,
  );
