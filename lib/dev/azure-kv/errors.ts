// Errors in the shape Azure Key Vault and Microsoft Entra answer with, so the Azure SDK parses
// them as it parses the real services' (RestError with `code`, `statusCode` and `details`).

export class KeyVaultError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly innerCode?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "KeyVaultError";
  }

  body(): object {
    return { error: { code: this.code, message: this.message, ...(this.innerCode ? { innererror: { code: this.innerCode } } : {}) } };
  }
}

/** Key Vault's 403 for a caller no role assignment (or access policy) admits. */
export function forbiddenByRbac(caller: string, action: string, resource: string): KeyVaultError {
  return new KeyVaultError(
    403,
    "Forbidden",
    `Caller is not authorized to perform action on resource.\r\nCaller: ${caller}\r\nAction: '${action}'\r\nResource: '${resource}'\r\nAssignment: (not found)`,
    "ForbiddenByRbac",
  );
}

export function keyDisabled(operation: string): KeyVaultError {
  return new KeyVaultError(403, "Forbidden", `Operation ${operation} is not allowed on a disabled key.`, "KeyDisabled");
}

export function keyExpired(operation: string): KeyVaultError {
  return new KeyVaultError(403, "Forbidden", `Operation ${operation} is not allowed on an expired key.`, "KeyExpired");
}

export function keyNotYetValid(operation: string): KeyVaultError {
  return new KeyVaultError(403, "Forbidden", `Operation ${operation} is not allowed on a key that is not yet valid.`, "KeyNotYetValid");
}

export function keyNotFound(name: string, version?: string): KeyVaultError {
  const which = version ? `A key with (name/id) ${name} was not found in this key vault` : `A key with (name/id) ${name} was not found in this key vault`;
  return new KeyVaultError(404, "KeyNotFound", `${which}. If you recently deleted this key you may be able to recover it using the correct recovery command.`);
}

export function badParameter(message: string): KeyVaultError {
  return new KeyVaultError(400, "BadParameter", message);
}

export function unauthorized(message: string): KeyVaultError {
  return new KeyVaultError(401, "Unauthorized", message, "TokenValidationFailed");
}

export function throttled(retryAfterSeconds: number): KeyVaultError {
  return new KeyVaultError(429, "Throttled", "Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached", undefined, {
    "retry-after": String(retryAfterSeconds),
  });
}

export function unavailable(): KeyVaultError {
  return new KeyVaultError(503, "ServiceUnavailable", "The service is temporarily unavailable. Please retry.");
}

/** Entra's token-endpoint error: `{ error, error_description, error_codes }` with an AADSTS code. */
export class EntraError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly aadsts: number,
    description: string,
  ) {
    super(`AADSTS${aadsts}: ${description}`);
    this.name = "EntraError";
  }

  body(): object {
    return { error: this.error, error_description: this.message, error_codes: [this.aadsts], timestamp: new Date().toISOString() };
  }
}
