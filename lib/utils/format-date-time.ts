// The console's one date-time format: "1 Dec 2026, 23:31 UTC", or in the viewer's zone with its
// offset, "2 Dec 2026, 05:01 UTC+5:30". Pure and Intl-free, so the server render (UTC) and the
// browser agree on everything but the zone.

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number) => String(n).padStart(2, "0");

/** "UTC", "UTC+1", "UTC+5:30", "UTC−3" for an offset in minutes east of UTC. */
export function utcOffsetLabel(offsetMinutes: number): string {
  if (offsetMinutes === 0) return "UTC";
  const abs = Math.abs(offsetMinutes);
  const minutes = abs % 60;
  return `UTC${offsetMinutes > 0 ? "+" : "\u2212"}${Math.floor(abs / 60)}${minutes ? `:${pad(minutes)}` : ""}`;
}

export type DateTimeOptions = {
  withSeconds?: boolean;
  /** Minutes east of UTC to show the time in (a browser's is `-date.getTimezoneOffset()`); 0 is UTC. */
  offsetMinutes?: number;
};

export function formatDateTime(date: Date, { withSeconds = false, offsetMinutes = 0 }: DateTimeOptions = {}): string {
  const d = new Date(date.getTime() + offsetMinutes * 60_000);
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}${withSeconds ? `:${pad(d.getUTCSeconds())}` : ""}`;
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${time} ${utcOffsetLabel(offsetMinutes)}`;
}
