// AWS KMS is eventually consistent: a new grant, or a change to a key policy or to an IAM
// identity policy, usually takes effect within seconds but can take up to about five minutes.
// The development KMS makes changes effective at once unless a propagation delay is set
// (startDevKms's `propagationDelayMs`, or `setPropagationDelay` on the running server): then,
// for that long after a change, requests are decided as before it — a new grant allows
// nothing yet, and the previous key policy or identity policy still applies. Kept in memory
// only: a restart makes every pending change effective.

type Pending<T> = { previous: T; effectiveAt: number };

export class Propagation {
  private delayMs = 0;
  private readonly grants = new Map<string, number>();
  private readonly keyPolicies = new Map<string, Pending<string>>();
  private readonly identities = new Map<string, Pending<unknown>>();

  setDelay(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error("The propagation delay must be a number of milliseconds >= 0");
    this.delayMs = ms;
  }

  /** A grant was created at `now`. */
  grantCreated(grantId: string, now: number): void {
    if (this.delayMs > 0) this.grants.set(grantId, now + this.delayMs);
  }

  grantEffective(grantId: string, now: number): boolean {
    const at = this.grants.get(grantId);
    if (at === undefined) return true;
    if (now < at) return false;
    this.grants.delete(grantId);
    return true;
  }

  /** A key's policy was replaced at `now`; `previous` is the one in force until then. */
  keyPolicyChanged(keyArn: string, previous: string, now: number): void {
    if (this.delayMs <= 0) return;
    const pending = this.keyPolicies.get(keyArn);
    // Several changes within the delay: the policy in force before the first one still applies.
    const before = pending && now < pending.effectiveAt ? pending.previous : previous;
    this.keyPolicies.set(keyArn, { previous: before, effectiveAt: now + this.delayMs });
  }

  /** The key policy that decides requests at `now`. */
  keyPolicyAt(keyArn: string, current: string, now: number): string {
    const pending = this.keyPolicies.get(keyArn);
    if (!pending) return current;
    if (now < pending.effectiveAt) return pending.previous;
    this.keyPolicies.delete(keyArn);
    return current;
  }

  /** A principal's identity policy was replaced at `now`. */
  identityChanged<T>(principalArn: string, previous: T, now: number): void {
    if (this.delayMs <= 0) return;
    const pending = this.identities.get(principalArn) as Pending<T> | undefined;
    const before = pending && now < pending.effectiveAt ? pending.previous : previous;
    this.identities.set(principalArn, { previous: before, effectiveAt: now + this.delayMs });
  }

  identityAt<T>(principalArn: string, current: T, now: number): T {
    const pending = this.identities.get(principalArn) as Pending<T> | undefined;
    if (!pending) return current;
    if (now < pending.effectiveAt) return pending.previous;
    this.identities.delete(principalArn);
    return current;
  }
}
