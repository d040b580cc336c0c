import { RateLimiterMemory, type RateLimiterRes } from "rate-limiter-flexible";

// The counting under each of Custody's rate limits (sign-in, key-service authentication,
// refused console actions): events per key in fixed windows, in this process's memory (a first
// layer: each instance counts on its own). A key is blocked once its count in the window
// reaches `blockedAt`, until the window ends; the count that reaches it is the crossing, which
// the limits record as one audit event per window.

export type Counted = {
  /** Seconds the key must now wait (0: not blocked). */
  wait: number;
  /** This count is the one that blocked the key: once per window. */
  crossed: boolean;
};

export class WindowCounter {
  private readonly limiter: RateLimiterMemory;

  constructor(name: string, readonly blockedAt: number, windowSeconds: number) {
    this.limiter = new RateLimiterMemory({ keyPrefix: name, points: blockedAt, duration: windowSeconds });
  }

  /** Seconds until `key` may go on, or 0 when it may now. */
  async blockedFor(key: string): Promise<number> {
    const res = await this.limiter.get(key);
    return res && res.consumedPoints >= this.blockedAt ? retryAfterSeconds(res) : 0;
  }

  /** Counts one event of `key`. */
  async count(key: string): Promise<Counted> {
    const res = await this.limiter.penalty(key, 1);
    if (res.consumedPoints < this.blockedAt) return { wait: 0, crossed: false };
    return { wait: retryAfterSeconds(res), crossed: res.consumedPoints === this.blockedAt };
  }
}

function retryAfterSeconds(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}
