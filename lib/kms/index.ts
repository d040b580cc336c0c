import "server-only";

export { kmsClient, kmsClientFor, setKmsClientForTests } from "./clients";
export { defaultKmsMessage, isKmsError, KeyUnsuitableError, KmsError, type KmsErrorKind, type KmsOperation, VENDOR_SIDE_ERROR_KINDS } from "./errors";
export { type KmsProviderChoice, kmsProviderChoices } from "./choices";
export { keyRefOf } from "./key-ref";
export type {
  InstructionBlock,
  InstructionContext,
  JsonValue,
  KeyDescription,
  KeyDetails,
  KeyRef,
  KmsClient,
  KmsProviderDefinition,
  KmsRevocationAction,
  ParsedKeyRef,
  ProviderIcon,
  RegistrationField,
  RevocationHandles,
  TenantBinding,
  TenantKeyMaterial,
  VerifyStepText,
} from "./provider";
export { isKmsProviderName, KMS_PROVIDER_NAMES, type KmsProviderName } from "./provider-names";
export { KMS_PROVIDERS, kmsProvider, kmsProviders } from "./registry";
