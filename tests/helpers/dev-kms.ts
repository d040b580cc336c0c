import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DEV_KMS_ACCOUNT_ID, DEV_KMS_PRINCIPALS } from "@/lib/dev/kms/defaults";
import { startDevKms, type DevKms } from "@/lib/dev/kms/server";

// A development KMS for one test file: port 0 (the endpoint says which port it got), the
// well-known account and principals, and a throw-away data dir that stop() removes.

export type TestDevKms = {
  /** The running server; replaced by restart(). */
  readonly kms: DevKms;
  readonly dataDir: string;
  /** Closes the server and starts a new one on the same data dir (new port, so a new endpoint). */
  restart(): Promise<DevKms>;
  /** Closes the server and deletes the data dir. Safe to call twice. */
  stop(): Promise<void>;
};

export async function startTestDevKms(prefix = "custody-dev-kms-"): Promise<TestDevKms> {
  const dataDir = mkdtempSync(path.join(tmpdir(), prefix));
  const start = () => startDevKms({ port: 0, dataDir, accountId: DEV_KMS_ACCOUNT_ID, principals: DEV_KMS_PRINCIPALS });
  let kms: DevKms;
  try {
    kms = await start();
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  let stopped = false;
  return {
    get kms() {
      return kms;
    },
    dataDir,
    async restart() {
      await kms.close();
      kms = await start();
      return kms;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await kms.close();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
