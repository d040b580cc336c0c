// Service credentials: what the vendor's application authenticates to the key service with.
// The console verbs (vendor admins only, every change audited) and what the key service needs
// to authenticate a call.
export { CREDENTIALS_CHANNEL } from "./channel";
export { createServiceCredential, type NewCredential } from "./create-service-credential";
export { type CredentialView, listServiceCredentials } from "./list-service-credentials";
export { type AuthCredential, loadCredentialForAuth } from "./load-credential-for-auth";
export { revokeServiceCredential } from "./revoke-service-credential";
export { rotateServiceCredential } from "./rotate-service-credential";
export { hashServiceSecret, parseServiceToken } from "./token";
export { touchCredentialsLastUsed } from "./touch-credentials-last-used";
