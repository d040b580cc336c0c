import "server-only";
import pg from "pg";
import { getDb } from "@/lib/db";
import type { AuditEvent } from "@/lib/db/generated/client";
import { connectionString } from "@/lib/db/pool";
import { AppError } from "@/lib/errors";
import { errorFields, log } from "@/lib/log";
import { type AuditFilter, FILTER_FIELDS, isFiltered } from "../query/filter";
import { chainHeadSeq, eventsAfter } from "../query/query";

// The live audit view's fan-in: one connection per console process LISTENs on custody_audit
// (migration 20261129080000: every insert into audit_events notifies its chain id, whichever
// process wrote it), and each open view is a subscriber of one chain with its filter.
//
// A notification carries no event data, only "chain X moved". The views of X then read what
// they have not seen yet through their filter, from the database, so what a view shows is
// exactly what the trail holds: nothing is lost if notifications are folded, late or lost,
// only delayed. Views of one chain with the same filter that have examined the same events
// share a feed: one read per new event, fanned out to all of them, however many are open (a
// new view catches up on its own feed, then joins one that is at the same place). A feed
// remembers the highest seq it has *examined*, not the last event it sent, so a filtered view
// moves past events that do not match and never reads them again. Per-chain commits are ordered by the chain head's row lock, so once seq N is visible
// every seq below it is too: reading the head before the events makes "examined up to the
// head" exact.
//
// Losing the connection loses notifications, so after every (re)connect each subscriber is
// caught up from the database, and a slow poll of the chain heads catches anything a silent
// failure let through. The connection exists only while someone is watching.

export const AUDIT_CHANNEL = "custody_audit";

export type LiveDelivery = {
  /** Matching events above the previous delivery's `examined`, in chain order. */
  events: AuditEvent[];
  /** Every event of the chain up to this seq has now been looked at (matching or not). */
  examined: bigint;
};

/** Receives deliveries one at a time: the next read waits until the promise returned settles (backpressure). */
export type LiveListener = (delivery: LiveDelivery) => void | Promise<void>;

export type LiveSubscription = {
  readonly chain: string;
  /** The highest seq examined so far. */
  readonly examined: bigint;
  close(): void;
};

export type LiveHubOptions = {
  connectionString?: () => string;
  /** How often the chain heads are compared with what subscribers have seen, in case a notification was lost. */
  pollMs?: number;
  /** How long the connection stays open with no subscriber. */
  idleMs?: number;
  heartbeatMs?: number;
  /** Subscribers this process serves at once; more are refused (`unavailable`). */
  maxSubscribers?: number;
  /** Events read per query. */
  batch?: number;
  /** Delays between reconnection attempts, the last repeated. */
  reconnectMs?: number[];
  /**
   * Least time between the starts of two reads for one subscriber: on a busy chain
   * (notifications at every group commit) each view reads at most this often, not per commit.
   */
  minReadIntervalMs?: number;
  /**
   * A view that has not taken a delivery this long after the other views of its feed did is
   * moved to a feed of its own, so a stalled browser holds back only itself.
   */
  detachSlowViewMs?: number;
};

const logger = log.child({ component: "audit-live-hub" });

class Subscriber implements LiveSubscription {
  closed = false;

  constructor(
    public feed: Feed,
    readonly listener: LiveListener,
    private readonly onClose: (subscriber: Subscriber) => void,
    readonly onStop?: () => void,
  ) {}

  get chain(): string {
    return this.feed.chain;
  }

  get examined(): bigint {
    return this.feed.examined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
  }
}

/** The views of one chain, with one filter, that have examined the same events: they are read for together. */
class Feed {
  readonly subscribers = new Set<Subscriber>();
  reading = false;
  again = false;
  /** When the last read started (epoch ms). */
  lastRead = 0;
  /** A delivery its (one, slow) view has not taken yet: the feed reads on only once it has. */
  waitFor: Promise<void> | null = null;

  constructor(
    readonly chain: string,
    readonly filter: AuditFilter,
    readonly filterKey: string,
    public examined: bigint,
  ) {}

  get closed(): boolean {
    return this.subscribers.size === 0;
  }
}

/** The filter as a key: two views share a feed only when their filters are the same. */
function keyOf(filter: AuditFilter): string {
  return JSON.stringify(FILTER_FIELDS.map((field) => {
    const value = filter[field];
    return value instanceof Date ? value.toISOString() : (value ?? null);
  }));
}

export class AuditLiveHub {
  private readonly chains = new Map<string, Set<Feed>>();
  /** Reads of the database for new events since this hub started (one per feed per round), for tests and the bench. */
  reads = 0;
  private count = 0;
  private client: pg.Client | null = null;
  private connecting = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private poller: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly options: Required<LiveHubOptions>;

  constructor(options: LiveHubOptions = {}) {
    this.options = {
      connectionString,
      pollMs: 10_000,
      idleMs: 30_000,
      heartbeatMs: 5_000,
      maxSubscribers: 500,
      batch: 500,
      reconnectMs: [100, 250, 500, 1000, 2000, 5000],
      minReadIntervalMs: 100,
      detachSlowViewMs: 2_000,
      ...options,
    };
  }

  /** Whether the LISTEN connection is up (for tests and diagnostics). */
  get listening(): boolean {
    return this.client !== null;
  }

  get subscribers(): number {
    return this.count;
  }

  /** Feeds open: groups of views read for together (for tests and diagnostics). */
  get feeds(): number {
    return [...this.chains.values()].reduce((sum, feeds) => sum + feeds.size, 0);
  }

  /**
   * Follows `chain` through `filter` from just after `afterSeq`: the listener first gets what is
   * already there, then each new matching event in order. The chain is the caller's decision
   * (the signed-in member's tenant), never taken from the request.
   */
  subscribe(chain: string, filter: AuditFilter, afterSeq: bigint, listener: LiveListener, onStop?: () => void): LiveSubscription {
    if (this.stopped) throw new AppError("unavailable", "This server is shutting down. Try again in a moment.");
    if (this.count >= this.options.maxSubscribers) {
      throw new AppError("unavailable", "Too many live audit views are open on this server. Try again in a moment.");
    }
    const filterKey = keyOf(filter);
    let feeds = this.chains.get(chain);
    if (!feeds) this.chains.set(chain, (feeds = new Set()));
    const joined = [...feeds].find((feed) => feed.filterKey === filterKey && feed.examined === afterSeq && !feed.reading);
    const feed = joined ?? new Feed(chain, filter, filterKey, afterSeq);
    feeds.add(feed);
    const subscriber = new Subscriber(feed, listener, (s) => this.remove(s), onStop);
    feed.subscribers.add(subscriber);
    this.count++;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.ensureRunning();
    // What is already there; whatever commits before LISTEN is up is caught on connect.
    if (!joined) this.drain(feed);
    return subscriber;
  }

  /** Catches every subscriber up now (what the poll does), resolving when the reads have started. */
  async catchUp(): Promise<void> {
    const chains = [...this.chains.keys()];
    if (chains.length === 0) return;
    const heads = await getDb().$queryRaw<Array<{ chain: string; seq: bigint }>>`
      SELECT chain, seq FROM audit_chains WHERE chain = ANY(${chains}::text[])`;
    for (const head of heads) {
      for (const feed of this.chains.get(head.chain) ?? []) {
        if (BigInt(head.seq) > feed.examined) this.drain(feed);
      }
    }
  }

  /** Ends every subscription (each `onStop` is called: a stream ends, and its browser reconnects elsewhere) and the connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    const subscribers = [...this.chains.values()].flatMap((feeds) => [...feeds].flatMap((feed) => [...feed.subscribers]));
    this.chains.clear();
    this.count = 0;
    const closed = this.shutdown();
    for (const subscriber of subscribers) {
      subscriber.closed = true;
      subscriber.onStop?.();
    }
    await closed;
  }

  private remove(subscriber: Subscriber): void {
    const { feed } = subscriber;
    if (!feed.subscribers.delete(subscriber)) return;
    this.count--;
    const feeds = this.chains.get(feed.chain);
    if (feed.closed) feeds?.delete(feed);
    if (feeds?.size === 0) this.chains.delete(feed.chain);
    if (this.count === 0 && !this.idleTimer && !this.stopped) {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = null;
        if (this.count === 0) void this.shutdown();
      }, this.options.idleMs);
      this.idleTimer.unref();
    }
  }

  private ensureRunning(): void {
    if (!this.poller) {
      this.poller = setInterval(() => {
        this.catchUp().catch((error: unknown) => logger.warn(errorFields(error), "live audit poll failed"));
      }, this.options.pollMs);
      this.poller.unref();
    }
    if (!this.client && !this.connecting && !this.reconnectTimer) void this.connect();
  }

  /** Closes the connection and timers (no subscriber left, or stopped); resolves when the connection is closed. */
  private shutdown(): Promise<void> {
    if (this.poller) clearInterval(this.poller);
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.poller = this.heartbeat = this.reconnectTimer = this.idleTimer = null;
    const client = this.client;
    this.client = null;
    this.attempt = 0;
    if (!client) return Promise.resolve();
    client.removeAllListeners("notification");
    return client.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    this.connecting = true;
    const client = new pg.Client({ connectionString: this.options.connectionString(), application_name: "custody-audit-live" });
    client.on("error", (error) => this.lost(client, error));
    client.on("end", () => this.lost(client, null));
    client.on("notification", (message) => this.notified(message));
    try {
      await client.connect();
      await client.query(`LISTEN ${AUDIT_CHANNEL}`);
    } catch (error) {
      this.connecting = false;
      this.lost(client, error);
      return;
    }
    this.connecting = false;
    if (this.stopped || this.count === 0) {
      client.removeAllListeners();
      client.on("error", () => {});
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    if (this.attempt > 0) logger.info("listening for audit events again");
    this.attempt = 0;
    this.heartbeat = setInterval(() => this.beat(client), this.options.heartbeatMs);
    this.heartbeat.unref();
    // Notifications sent before LISTEN took effect (or while disconnected) are gone: read instead.
    this.catchUp().catch((error: unknown) => logger.warn(errorFields(error), "live audit catch-up failed; the poll retries"));
  }

  private beat(client: pg.Client): void {
    const timer = setTimeout(() => this.lost(client, new Error("heartbeat timed out")), this.options.heartbeatMs);
    timer.unref();
    client.query("SELECT 1").then(
      () => clearTimeout(timer),
      (error: unknown) => {
        clearTimeout(timer);
        this.lost(client, error);
      },
    );
  }

  private lost(client: pg.Client, error: unknown): void {
    if (client === this.client) {
      this.client = null;
      if (this.heartbeat) clearInterval(this.heartbeat);
      this.heartbeat = null;
      client.removeAllListeners("notification");
      client.end().catch(() => {});
      if (!this.stopped) logger.warn(error ? errorFields(error) : {}, "lost the live audit connection; reconnecting");
    } else if (this.connecting || this.client !== null) {
      // An old connection's late error, or a failure the connect attempt handles itself.
      return;
    }
    if (this.stopped || this.count === 0 || this.reconnectTimer) return;
    const delays = this.options.reconnectMs;
    const delay = delays[Math.min(this.attempt++, delays.length - 1)]!;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.stopped && this.count > 0 && !this.client && !this.connecting) void this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }

  private notified(message: pg.Notification): void {
    if (message.channel !== AUDIT_CHANNEL || !message.payload) return;
    for (const feed of this.chains.get(message.payload) ?? []) this.drain(feed);
  }

  /**
   * At most one read in flight per feed; a wake-up during it runs one more round after.
   * Reads start at least minReadIntervalMs apart, so a busy chain costs each feed a bounded
   * number of queries per second, whatever the commit rate.
   */
  private drain(feed: Feed): void {
    if (feed.closed) return;
    if (feed.reading) {
      feed.again = true;
      return;
    }
    feed.reading = true;
    void (async () => {
      try {
        do {
          if (feed.waitFor) await feed.waitFor;
          feed.waitFor = null;
          const wait = this.options.minReadIntervalMs - (Date.now() - feed.lastRead);
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          if (feed.closed) break;
          // Wake-ups from here on need another round; earlier ones are covered by this read.
          feed.again = false;
          feed.lastRead = Date.now();
          await this.readNew(feed);
        } while (feed.again && !feed.closed);
      } catch (error) {
        // Retried on the next notification or poll; the feed keeps its position.
        logger.warn(errorFields(error), "reading new audit events failed");
      } finally {
        feed.reading = false;
        this.mergeInto(feed);
      }
    })();
  }

  private async readNew(feed: Feed): Promise<void> {
    const { batch } = this.options;
    const filtered = isFiltered(feed.filter);
    for (;;) {
      if (feed.closed) return;
      this.reads++;
      // Read before the events: everything up to this head is committed and visible below.
      const head = filtered ? await chainHeadSeq(feed.chain) : 0n;
      const events = await eventsAfter(feed.chain, feed.filter, feed.examined, batch);
      const full = events.length === batch;
      let examined = events.length > 0 ? events[events.length - 1]!.seq : feed.examined;
      if (!full && head > examined) examined = head;
      if (examined <= feed.examined) return;
      if (feed.closed) return;
      feed.examined = examined;
      await this.fanOut(feed, { events, examined });
      if (!full) return;
    }
  }

  /**
   * Every view of the feed gets the delivery, and the next read waits until they have taken it
   * (backpressure). A view still busy when the others are done, for detachSlowViewMs, leaves for
   * a feed of its own, which reads on once that view has caught its breath.
   */
  private async fanOut(feed: Feed, delivery: LiveDelivery): Promise<void> {
    const pending = new Map<Subscriber, Promise<void>>();
    for (const subscriber of feed.subscribers) {
      const taken = this.deliver(subscriber, delivery);
      pending.set(subscriber, taken);
      void taken.then(() => pending.delete(subscriber));
    }
    const all = Promise.all(pending.values());
    let timer: NodeJS.Timeout | undefined;
    const patience = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.detachSlowViewMs)));
    await Promise.race([all, patience]);
    clearTimeout(timer);
    if (pending.size === 0) return;
    if (pending.size === feed.subscribers.size) {
      await all; // every view is slow: they wait together
      return;
    }
    for (const [subscriber, taken] of pending) this.detach(subscriber, taken);
  }

  private detach(subscriber: Subscriber, taken: Promise<void>): void {
    const { feed } = subscriber;
    const feeds = this.chains.get(feed.chain);
    if (subscriber.closed || !feeds) return;
    const own = new Feed(feed.chain, feed.filter, feed.filterKey, feed.examined);
    own.waitFor = taken;
    feed.subscribers.delete(subscriber);
    own.subscribers.add(subscriber);
    subscriber.feed = own;
    feeds.add(own);
    this.drain(own);
  }

  private async deliver(subscriber: Subscriber, delivery: LiveDelivery): Promise<void> {
    if (subscriber.closed) return;
    try {
      await subscriber.listener(delivery);
    } catch (error) {
      // One view's failure (its stream gone) is its own; the others of its feed go on.
      logger.warn(errorFields(error), "delivering audit events to a live view failed");
    }
  }

  /** A feed that has caught up with another of the same chain and filter joins it, so the two are read for once. */
  private mergeInto(feed: Feed): void {
    if (feed.closed || feed.reading) return;
    const feeds = this.chains.get(feed.chain);
    const target = [...(feeds ?? [])].find(
      (other) => other !== feed && other.filterKey === feed.filterKey && other.examined === feed.examined && !other.reading,
    );
    if (!target || !feeds) return;
    for (const subscriber of feed.subscribers) {
      subscriber.feed = target;
      target.subscribers.add(subscriber);
    }
    feed.subscribers.clear();
    feeds.delete(feed);
  }
}

const globalForHub = globalThis as unknown as { custodyAuditLiveHub?: AuditLiveHub };

/** This process's hub (one LISTEN connection however many views are open). */
export function getAuditLiveHub(): AuditLiveHub {
  globalForHub.custodyAuditLiveHub ??= new AuditLiveHub();
  return globalForHub.custodyAuditLiveHub;
}

/**
 * On shutdown: ends the open live streams, so the HTTP server can close (a stream never ends
 * by itself) and browsers reconnect, resuming from their last event, once a server is back.
 */
export async function stopAuditLiveHub(): Promise<void> {
  await globalForHub.custodyAuditLiveHub?.stop();
}
