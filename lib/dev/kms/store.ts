import { z } from "zod";
import { deriveKeys, StoreFiles, StoreStartupError, type DerivedKeys } from "./store-file";
import { aliasArnOf, emptyState, keyArnOf, type AliasRecord, type GrantRecord, type KeyRecord, type StoreState } from "./model";

// The key store: all keys, aliases and grants, in memory, persisted encrypted after every
// change. A change is applied to a copy of the state, the copy is written to disk, and only
// then does it replace the live state, so a failed write leaves memory and disk agreeing.
// Everything is synchronous: no request can observe or interleave with a half-made change.

const DOCUMENT_VERSION = 1;

const context = z.record(z.string(), z.string());
const keySchema = z.object({
  keyId: z.string().min(1),
  accountId: z.string().regex(/^\d{12}$/),
  region: z.string().min(1),
  createdAt: z.number(),
  description: z.string(),
  state: z.enum(["Enabled", "Disabled", "PendingDeletion"]),
  deletionDate: z.number().optional(),
  multiRegion: z.boolean(),
  policy: z.string(),
  tags: z.array(z.object({ TagKey: z.string(), TagValue: z.string() })),
  material: z.base64().refine((v) => Buffer.from(v, "base64").length === 32, "must be 32 bytes"),
  keyMaterialId: z.string(),
}) satisfies z.ZodType<KeyRecord>;
const aliasSchema = z.object({
  aliasName: z.string().startsWith("alias/"),
  accountId: z.string(),
  region: z.string(),
  targetKeyId: z.string(),
  createdAt: z.number(),
  updatedAt: z.number(),
}) satisfies z.ZodType<AliasRecord>;
const grantSchema = z.object({
  grantId: z.string().min(1),
  keyArn: z.string(),
  name: z.string().optional(),
  granteePrincipal: z.string(),
  retiringPrincipal: z.string().optional(),
  operations: z.array(z.string()),
  constraint: z.object({ type: z.enum(["EncryptionContextEquals", "EncryptionContextSubset"]), context }).optional(),
  issuingAccount: z.string(),
  createdAt: z.number(),
}) satisfies z.ZodType<GrantRecord>;
const documentSchema = z.object({
  version: z.literal(DOCUMENT_VERSION),
  keys: z.array(keySchema),
  aliases: z.array(aliasSchema),
  grants: z.array(grantSchema),
});

export class KeyStore {
  private current: StoreState;

  private constructor(
    private readonly files: StoreFiles,
    private readonly keys: DerivedKeys,
    state: StoreState,
  ) {
    this.current = state;
  }

  /** Opens (or creates) the store in `dataDir`; throws StoreStartupError with a clear reason. */
  static open(dataDir: string, masterKey: Buffer | undefined): KeyStore {
    const files = new StoreFiles(dataDir);
    files.open();
    try {
      const keys = deriveKeys(files.masterKey(masterKey));
      const document = files.read(keys);
      const store = new KeyStore(files, keys, document ? parseDocument(document, files.storePath) : emptyState());
      if (!document) store.mutate(() => undefined); // write the empty store: its check value pins the master key
      return store;
    } catch (error) {
      files.close();
      throw error;
    }
  }

  /** The live state. Read it freely; change it only through mutate(). */
  get state(): Readonly<StoreState> {
    return this.current;
  }

  get grantTokenKey(): Buffer {
    return this.keys.grantTokenKey;
  }

  /** Signs STS session tokens and derives their secret keys (sessions.ts). */
  get sessionKey(): Buffer {
    return this.keys.sessionKey;
  }

  /** Applies `change` to a copy, persists the copy, then makes it the live state. */
  mutate<T>(change: (draft: StoreState) => T): T {
    const draft = structuredClone(this.current);
    const result = change(draft);
    this.files.write(this.keys, serialise(draft));
    this.current = draft;
    return result;
  }

  /** Deletes keys whose deletion date has passed, with their aliases and grants, as KMS does. */
  purgeDeletedKeys(now: number): void {
    const due = [...this.current.keys.values()].filter((k) => k.state === "PendingDeletion" && (k.deletionDate ?? Infinity) <= now);
    if (due.length === 0) return;
    this.mutate((draft) => {
      for (const key of due) {
        const arn = keyArnOf(key);
        draft.keys.delete(arn);
        for (const [aliasArn, alias] of draft.aliases) {
          if (alias.accountId === key.accountId && alias.region === key.region && alias.targetKeyId === key.keyId) draft.aliases.delete(aliasArn);
        }
        for (const [grantId, grant] of draft.grants) if (grant.keyArn === arn) draft.grants.delete(grantId);
      }
    });
  }

  close(): void {
    this.files.close();
  }
}

function serialise(state: StoreState): Buffer {
  const document: z.infer<typeof documentSchema> = {
    version: DOCUMENT_VERSION,
    keys: [...state.keys.values()],
    aliases: [...state.aliases.values()],
    grants: [...state.grants.values()],
  };
  return Buffer.from(JSON.stringify(document), "utf8");
}

function parseDocument(bytes: Buffer, storePath: string): StoreState {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new StoreStartupError(`The dev KMS store ${storePath} decrypts but is not JSON`);
  }
  const parsed = documentSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StoreStartupError(`The dev KMS store ${storePath} has an unexpected shape (${issue?.path.join(".")}: ${issue?.message})`);
  }
  const state = emptyState();
  for (const key of parsed.data.keys) state.keys.set(keyArnOf(key), key);
  for (const alias of parsed.data.aliases) state.aliases.set(aliasArnOf(alias), alias);
  for (const grant of parsed.data.grants) state.grants.set(grant.grantId, grant);
  return state;
}
