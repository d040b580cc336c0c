import { randomBytes } from "node:crypto";
import { requireKeyAccess } from "../access";
import { openBlob, parseBlob, sealBlob, type ParsedBlob } from "../ciphertext";
import type { EncryptionContext } from "../crypto";
import { incorrectKey, invalidCiphertext, invalidKeyUsage, invalidRequest, unsupported } from "../errors";
import { resolveKey } from "../key-refs";
import { keyArnOf, type KeyRecord } from "../model";
import { checkGrantTokens, requireEnabled, stopIfDryRun, type Operation, type OperationContext, scopeOf } from "./context";
import { keyFromKeyId } from "./keys";

// The cryptographic operations: Encrypt, Decrypt, GenerateDataKey,
// GenerateDataKeyWithoutPlaintext, ReEncrypt. Each one validates the request, resolves the key,
// authorises the caller (key policy or grant, with the encryption context in the condition
// keys and grant constraints), requires the key to be Enabled, and only then touches key
// material. Plaintext and key material are never logged or persisted.

const ENCRYPTION_ALGORITHMS = ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE", "SYMMETRIC_DEFAULT"] as const;
const DATA_KEY_SPECS = ["AES_256", "AES_128"] as const;
const MAX_PLAINTEXT_BYTES = 4096;
const MAX_CIPHERTEXT_BYTES = 6144;

function readAlgorithm(context: OperationContext, member: string): "SYMMETRIC_DEFAULT" {
  const algorithm = context.fields.enumValue(member, ENCRYPTION_ALGORITHMS) ?? "SYMMETRIC_DEFAULT";
  if (algorithm !== "SYMMETRIC_DEFAULT") {
    throw invalidKeyUsage(`The encryption algorithm ${algorithm} is not valid for a symmetric encryption KMS key.`);
  }
  return algorithm;
}

function refuseRecipient(context: OperationContext): void {
  if (context.fields.object("Recipient") !== undefined) {
    throw unsupported("Recipient (AWS Nitro Enclaves attestation) is not supported by the development KMS.");
  }
}

/** Authorises the caller for `operation` on `key` with this context, and requires the key Enabled. */
function authoriseUse(context: OperationContext, key: KeyRecord, operation: string, encryptionContext: EncryptionContext | undefined, extra = {}): void {
  requireKeyAccess(scopeOf(context), {
    caller: context.caller,
    key,
    operation,
    encryptionContext,
    conditionKeys: { "kms:encryptionalgorithm": ["SYMMETRIC_DEFAULT"], ...extra },
    grantable: true,
  });
  requireEnabled(key);
}

function material(key: KeyRecord): Buffer {
  return Buffer.from(key.material, "base64");
}

/** The key a ciphertext blob names; InvalidCiphertextException when it is not one of ours. */
function keyOfBlob(context: OperationContext, blob: Buffer): { key: KeyRecord; parsed: ParsedBlob } {
  const parsed = parseBlob(blob);
  if (!parsed || !parsed.keyArn.startsWith("arn:aws:kms:")) {
    throw invalidCiphertext("The ciphertext is not a ciphertext blob of this KMS, or it is damaged.");
  }
  const key = resolveKey(context.store.state, parsed.keyArn, {
    caller: context.caller,
    region: context.region,
    aliases: false,
    crossAccount: true,
  });
  return { key, parsed };
}

/** Decrypt's optional KeyId (and ReEncrypt's SourceKeyId) must name the key the blob was made with. */
function checkNamedKey(context: OperationContext, member: string, key: KeyRecord): void {
  const named = context.fields.string(member, { min: 1, max: 2048 });
  if (named === undefined) return;
  const namedKey = resolveKey(context.store.state, named, { caller: context.caller, region: context.region, aliases: true, crossAccount: true });
  if (keyArnOf(namedKey) !== keyArnOf(key)) {
    throw incorrectKey("The key ID in the request does not identify a CMK that can perform this operation.");
  }
}

function openOrThrow(parsed: ParsedBlob, key: KeyRecord, encryptionContext: EncryptionContext | undefined): Buffer {
  const plaintext = openBlob(parsed, material(key), encryptionContext);
  // One answer for a wrong context and a damaged blob, as KMS gives: no oracle on which it was.
  if (!plaintext) throw invalidCiphertext("The ciphertext is invalid, or the encryption context does not match the one it was encrypted with.");
  return plaintext;
}

export const encrypt: Operation = (context) => {
  const plaintext = context.fields.requiredBlob("Plaintext", { min: 1, max: MAX_PLAINTEXT_BYTES });
  const encryptionContext = context.fields.context("EncryptionContext");
  const algorithm = readAlgorithm(context, "EncryptionAlgorithm");
  const key = keyFromKeyId(context, { aliases: true, crossAccount: true });
  checkGrantTokens(context);
  authoriseUse(context, key, "Encrypt", encryptionContext);
  stopIfDryRun(context);
  const blob = sealBlob({ keyArn: keyArnOf(key), material: material(key), plaintext, context: encryptionContext });
  return { CiphertextBlob: blob.toString("base64"), KeyId: keyArnOf(key), EncryptionAlgorithm: algorithm };
};

function generateDataKey(context: OperationContext, operation: string, returnPlaintext: boolean) {
  const keySpec = context.fields.enumValue("KeySpec", DATA_KEY_SPECS);
  const numberOfBytes = context.fields.integer("NumberOfBytes", { min: 1, max: 1024 });
  if ((keySpec === undefined) === (numberOfBytes === undefined)) {
    throw invalidRequest("Specify either KeySpec or NumberOfBytes (but not both).");
  }
  const encryptionContext = context.fields.context("EncryptionContext");
  refuseRecipient(context);
  const key = keyFromKeyId(context, { aliases: true, crossAccount: true });
  checkGrantTokens(context);
  authoriseUse(context, key, operation, encryptionContext, keySpec ? { "kms:datakeyspec": [keySpec] } : {});
  stopIfDryRun(context);
  const dataKey = randomBytes(numberOfBytes ?? (keySpec === "AES_128" ? 16 : 32));
  const blob = sealBlob({ keyArn: keyArnOf(key), material: material(key), plaintext: dataKey, context: encryptionContext });
  return {
    CiphertextBlob: blob.toString("base64"),
    ...(returnPlaintext ? { Plaintext: dataKey.toString("base64") } : {}),
    KeyId: keyArnOf(key),
    KeyMaterialId: key.keyMaterialId,
  };
}

export const generateDataKeyOp: Operation = (context) => generateDataKey(context, "GenerateDataKey", true);
export const generateDataKeyWithoutPlaintext: Operation = (context) =>
  generateDataKey(context, "GenerateDataKeyWithoutPlaintext", false);

export const decrypt: Operation = (context) => {
  const blob = context.fields.requiredBlob("CiphertextBlob", { min: 1, max: MAX_CIPHERTEXT_BYTES });
  const encryptionContext = context.fields.context("EncryptionContext");
  const algorithm = readAlgorithm(context, "EncryptionAlgorithm");
  refuseRecipient(context);
  const { key, parsed } = keyOfBlob(context, blob);
  checkNamedKey(context, "KeyId", key);
  checkGrantTokens(context);
  authoriseUse(context, key, "Decrypt", encryptionContext);
  const plaintext = openOrThrow(parsed, key, encryptionContext);
  stopIfDryRun(context);
  return {
    KeyId: keyArnOf(key),
    Plaintext: plaintext.toString("base64"),
    EncryptionAlgorithm: algorithm,
    KeyMaterialId: key.keyMaterialId,
  };
};

export const reEncrypt: Operation = (context) => {
  const { fields } = context;
  const blob = fields.requiredBlob("CiphertextBlob", { min: 1, max: MAX_CIPHERTEXT_BYTES });
  const sourceContext = fields.context("SourceEncryptionContext");
  const destinationContext = fields.context("DestinationEncryptionContext");
  const sourceAlgorithm = readAlgorithm(context, "SourceEncryptionAlgorithm");
  const destinationAlgorithm = readAlgorithm(context, "DestinationEncryptionAlgorithm");
  const destinationKeyId = fields.requiredString("DestinationKeyId", { min: 1, max: 2048 });
  const { key: source, parsed } = keyOfBlob(context, blob);
  checkNamedKey(context, "SourceKeyId", source);
  const destination = resolveKey(context.store.state, destinationKeyId, {
    caller: context.caller,
    region: context.region,
    aliases: true,
    crossAccount: true,
  });
  checkGrantTokens(context);
  const sameKey = { "kms:reencryptonsamekey": [String(keyArnOf(source) === keyArnOf(destination))] };
  authoriseUse(context, source, "ReEncryptFrom", sourceContext, sameKey);
  authoriseUse(context, destination, "ReEncryptTo", destinationContext, sameKey);
  const plaintext = openOrThrow(parsed, source, sourceContext);
  stopIfDryRun(context);
  const reencrypted = sealBlob({ keyArn: keyArnOf(destination), material: material(destination), plaintext, context: destinationContext });
  return {
    CiphertextBlob: reencrypted.toString("base64"),
    SourceKeyId: keyArnOf(source),
    KeyId: keyArnOf(destination),
    SourceEncryptionAlgorithm: sourceAlgorithm,
    DestinationEncryptionAlgorithm: destinationAlgorithm,
    SourceKeyMaterialId: source.keyMaterialId,
    DestinationKeyMaterialId: destination.keyMaterialId,
  };
};
