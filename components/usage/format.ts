import type { OutcomeName } from "@/lib/audit/usage/series";

// Deterministic formatting for the usage charts: UTC, no Intl time zones, so the server
// render and hydration agree and the axis says which clock it uses.
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number) => String(n).padStart(2, "0");

/** "14:00" for an hour bucket, "28 Nov" for a day bucket (YYYY-MM-DD). */
export function bucketTick(unit: "hour" | "day", at: string): string {
  const d = new Date(unit === "day" ? `${at}T00:00:00Z` : at);
  return unit === "hour" ? `${pad(d.getUTCHours())}:00` : `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
}

/** "28 Nov, 14:00–15:00 UTC" or "28 Nov 2026 (UTC)". */
export function bucketLabel(unit: "hour" | "day", at: string): string {
  const d = new Date(unit === "day" ? `${at}T00:00:00Z` : at);
  const day = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
  if (unit === "day") return `${day} ${d.getUTCFullYear()} (UTC)`;
  return `${day}, ${pad(d.getUTCHours())}:00–${pad((d.getUTCHours() + 1) % 24)}:00 UTC`;
}

const INTEGER = new Intl.NumberFormat("en-US");

export function formatCount(n: number): string {
  return INTEGER.format(n);
}

/** Compact axis ticks: 950, 12k, 3.4M. */
export function formatTick(n: number): string {
  if (n >= 1_000_000) return `${+(n / 1_000_000).toFixed(1)}M`;
  if (n >= 10_000) return `${Math.round(n / 1000)}k`;
  if (n >= 1_000) return `${+(n / 1000).toFixed(1)}k`;
  return String(n);
}

export function formatPercent(rate: number | null): string {
  if (rate === null) return "—";
  if (rate === 0) return "0%";
  if (rate < 0.001) return "<0.1%";
  return `${+(rate * 100).toFixed(1)}%`;
}

export const OUTCOME_NAMES: Readonly<Record<OutcomeName, string>> = { success: "Succeeded", denied: "Refused", failure: "Failed" };

// Okabe–Ito: distinguishable with the common colour-vision deficiencies. The key operations'
// names and colours are in the audit catalogue (lib/audit/catalogue.ts).
export const OUTCOME_COLORS: Readonly<Record<OutcomeName, string>> = { success: "#0072B2", denied: "#E69F00", failure: "#CC79A7" };

/** Chart tooltips on the theme's popover colours (recharts' default is white, unreadable in dark mode). */
export const TOOLTIP_STYLE = {
  background: "var(--color-popover)",
  borderColor: "var(--color-border)",
  color: "var(--color-popover-foreground)",
} as const;
