// Errors as Vault's HTTP API returns them: a status and {"errors": [...]}. Messages follow
// Vault's (OpenBao's) own wording where a client might look at them.

export class VaultHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(errors.join("; "));
    this.name = "VaultHttpError";
  }
}

export const permissionDenied = () => new VaultHttpError(403, ["permission denied"]);
export const badRequest = (message: string) => new VaultHttpError(400, [message]);
/** Vault answers an unknown path (or a missing key read) with 404 and no messages. */
export const notFound = (message?: string) => new VaultHttpError(404, message ? [message] : []);
export const sealed = () => new VaultHttpError(503, ["Vault is sealed"]);
export const unsupportedOperation = () => new VaultHttpError(405, ["unsupported operation"]);
