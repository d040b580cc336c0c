import "server-only";
import pg from "pg";
import { CREDENTIALS_CHANNEL } from "@/lib/credentials/channel";
import { errorFields, log } from "@/lib/log";
import { KEY_STATE_CHANNEL, REVOCATION_CHANNEL } from "./revocation-channel";

// Each key-service instance keeps one connection LISTENing for the changes that make its
// caches wrong: revocations, other key-state changes, revoked credentials. Caches trust
// themselves only while this connection is known to be alive and only for entries loaded in
// the current connection's lifetime (`generation`): after a drop, anything cached before it
// is re-read from the database, so a notification lost with the connection cannot leave a
// revoked tenant or credential usable. A heartbeat catches a connection that died silently.

export type Invalidation =
  | { kind: "revocation"; tenantId: string }
  | { kind: "key_state"; tenantId: string }
  | { kind: "credential"; credentialId: string }
  /** The connection was lost or re-established: everything cached may be stale. */
  | { kind: "all" };

const HEARTBEAT_MS = 250;
const HEARTBEAT_TIMEOUT_MS = 750;
const RECONNECT_MS = [50, 100, 250, 500, 1000];
const logger = log.child({ component: "invalidation-listener" });

export class InvalidationListener {
  private client: pg.Client | null = null;
  private healthy = false;
  private stopped = false;
  private attempt = 0;
  private heartbeat: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  /** Bumped whenever the connection is lost or re-made; cache entries remember the one they were loaded in. */
  generation = 0;

  constructor(
    private readonly connectionString: string,
    private readonly onInvalidate: (invalidation: Invalidation) => void,
  ) {}

  /** Whether caches loaded in `generation` may be trusted right now. */
  trusts(generation: number): boolean {
    return this.healthy && generation === this.generation;
  }

  get isHealthy(): boolean {
    return this.healthy;
  }

  /** Connects; resolves after the first LISTEN (or the first failure, after which it keeps retrying). */
  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = null;
    this.healthy = false;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.connectionString, application_name: "custody-listener" });
    client.on("error", (error) => this.lost(client, error));
    client.on("end", () => this.lost(client, null));
    client.on("notification", (message) => this.notified(message));
    try {
      await client.connect();
      await client.query(`LISTEN ${REVOCATION_CHANNEL}; LISTEN ${KEY_STATE_CHANNEL}; LISTEN ${CREDENTIALS_CHANNEL}`);
    } catch (error) {
      this.lost(client, error);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.attempt = 0;
    // Entries loaded before this moment may have missed notifications: a new generation.
    this.generation++;
    this.onInvalidate({ kind: "all" });
    this.healthy = true;
    if (this.generation > 1) logger.info("listening for key-state changes again");
    this.heartbeat = setInterval(() => this.beat(client), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private beat(client: pg.Client): void {
    let answered = false;
    const timer = setTimeout(() => {
      if (!answered) this.lost(client, new Error("heartbeat timed out"));
    }, HEARTBEAT_TIMEOUT_MS);
    timer.unref();
    client.query("SELECT 1").then(
      () => {
        answered = true;
        clearTimeout(timer);
      },
      (error: unknown) => {
        answered = true;
        clearTimeout(timer);
        this.lost(client, error);
      },
    );
  }

  private lost(client: pg.Client, error: unknown): void {
    if (client !== this.client && this.client !== null) return;
    const wasCurrent = client === this.client;
    if (wasCurrent) {
      this.client = null;
      if (this.heartbeat) clearInterval(this.heartbeat);
      this.heartbeat = null;
      client.removeAllListeners("notification");
      client.end().catch(() => {});
    }
    if (this.healthy || wasCurrent) {
      this.healthy = false;
      this.generation++;
      this.onInvalidate({ kind: "all" });
      if (!this.stopped) logger.warn(error ? errorFields(error) : {}, "lost the key-state listener connection; caches bypassed until it is back");
    }
    if (this.stopped || this.reconnectTimer) return;
    const delay = RECONNECT_MS[Math.min(this.attempt++, RECONNECT_MS.length - 1)]!;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }

  private notified(message: pg.Notification): void {
    const payload = message.payload ?? "";
    if (message.channel === REVOCATION_CHANNEL) this.onInvalidate({ kind: "revocation", tenantId: payload });
    else if (message.channel === KEY_STATE_CHANNEL) this.onInvalidate({ kind: "key_state", tenantId: payload });
    else if (message.channel === CREDENTIALS_CHANNEL) this.onInvalidate({ kind: "credential", credentialId: payload });
  }
}
