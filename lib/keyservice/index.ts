import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import { connectionString, getPool } from "@/lib/db/pool";
import { getKms } from "@/lib/kms";
import { createKeyServiceHandler } from "./handler";
import { KeyService } from "./key-service";

export { API_PREFIX } from "./handler";
export { KeyService, type ServiceCall } from "./key-service";

export type RunningKeyService = {
  service: KeyService;
  handle(req: IncomingMessage, res: ServerResponse): void;
  stop(): Promise<void>;
};

/** Starts the key service's domain (listener, audit committer) on DATABASE_URL and the configured KMS. */
export async function startKeyService(options: { leaseSeconds: number }): Promise<RunningKeyService> {
  const service = new KeyService({ pool: getPool(), connectionString: connectionString(), kms: () => getKms().provider, leaseSeconds: options.leaseSeconds });
  await service.start();
  return { service, handle: createKeyServiceHandler(service), stop: () => service.stop() };
}
