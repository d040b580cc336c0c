import type pg from "pg";
import { touchCredentialsLastUsed } from "@/lib/credentials";
import { noteDatabaseError } from "@/lib/db/health";
import { isDatabaseUnavailable } from "@/lib/db/unavailable";
import { errorFields, log } from "@/lib/log";

// Last-used times of service credentials and KMS keys: noted in memory on each use, written in
// one batch every few seconds (and on stop), never on the request's path.

const FLUSH_MS = 5_000;
const logger = log.child({ component: "key-service" });

export class UsageRecorder {
  private readonly credentials = new Map<string, Date>();
  private readonly kmsKeys = new Map<string, Date>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly pool: pg.Pool) {}

  credentialUsed(credentialId: string): void {
    this.credentials.set(credentialId, new Date());
  }

  kmsKeyUsed(kmsKeyId: string): void {
    this.kmsKeys.set(kmsKeyId, new Date());
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async flush(): Promise<void> {
    const credentials = new Map(this.credentials);
    const kmsKeys = new Map(this.kmsKeys);
    this.credentials.clear();
    this.kmsKeys.clear();
    try {
      if (credentials.size > 0) await touchCredentialsLastUsed(credentials);
      if (kmsKeys.size > 0) {
        await this.pool.query(
          `UPDATE kms_keys k SET last_used_at = GREATEST(k.last_used_at, u.at)
             FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, at) WHERE k.id = u.id`,
          [[...kmsKeys.keys()], [...kmsKeys.values()].map((d) => d.toISOString())],
        );
      }
    } catch (error) {
      // Kept for the next flush (a newer use may have arrived meanwhile: the later time wins).
      keepLatest(this.credentials, credentials);
      keepLatest(this.kmsKeys, kmsKeys);
      if (isDatabaseUnavailable(error)) noteDatabaseError(error);
      else logger.warn(errorFields(error), "could not record last-used times");
    }
  }
}

function keepLatest(into: Map<string, Date>, from: Map<string, Date>): void {
  for (const [id, at] of from) {
    const current = into.get(id);
    if (!current || current < at) into.set(id, at);
  }
}
