// When a tenant key version may be retired (pure: the versions page and retireTenantKey share
// it). Not the current version, not already retired, and quiet for the chosen period: nothing
// wrapped, unwrapped or rekeyed under it, and no longer current, for `quietDays` days.

export const DEFAULT_QUIET_DAYS = 30;
const DAY_MS = 86_400_000;

export type RetirementFacts = {
  isCurrent: boolean;
  retiredAt: Date | null;
  /** When the next version was made (the end of its time as current), or null. */
  supersededAt: Date | null;
  /** The newest use of any kind (wrap, unwrap, rekey to or from). */
  lastUsedAt: Date | null;
};

export type Retirement = { allowed: true } | { allowed: false; reason: string; from: Date | null };

export function retirement(facts: RetirementFacts, quietDays: number, now: Date): Retirement {
  if (facts.retiredAt) return { allowed: false, reason: "This version is already retired.", from: null };
  if (facts.isCurrent) {
    return { allowed: false, reason: "This is the current version: new data keys are wrapped under it. Rotate first, then move data off it.", from: null };
  }
  const quietSince = [facts.supersededAt, facts.lastUsedAt].filter((d): d is Date => d !== null).reduce<Date | null>((a, b) => (a && a > b ? a : b), null);
  if (!quietSince) return { allowed: true };
  const from = new Date(quietSince.getTime() + quietDays * DAY_MS);
  if (from <= now) return { allowed: true };
  const what = facts.lastUsedAt && facts.lastUsedAt >= quietSince ? `It was last used on ${day(facts.lastUsedAt)}` : `It was current until ${day(quietSince)}`;
  return { allowed: false, reason: `${what}; with a ${quietDays}-day quiet period it can be retired from ${day(from)}.`, from };
}

const day = (date: Date) => `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
