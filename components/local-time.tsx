"use client";

import * as React from "react";

export type LocalTimeProps = {
  /** An ISO-8601 string or a Date. */
  value: string | Date;
  /** Include seconds (default false). */
  withSeconds?: boolean;
  className?: string;
};

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number) => String(n).padStart(2, "0");

/** Deterministic UTC rendering (no Intl), identical on the server and during hydration. */
function formatUtc(date: Date, withSeconds: boolean): string {
  const time = `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}${
    withSeconds ? `:${pad(date.getUTCSeconds())}` : ""
  }`;
  return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}, ${time} UTC`;
}

function formatLocal(date: Date, withSeconds: boolean): string {
  return date.toLocaleString(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    ...(withSeconds ? { second: "2-digit" } : {}),
    timeZoneName: "short",
  });
}

const subscribe = () => () => {};
const onClient = () => true;
const onServer = () => false;

/**
 * `<time>` with a readable absolute date-time. The server render and hydration show UTC;
 * right after hydration it switches to the viewer's locale and time zone.
 * The exact ISO timestamp is in `dateTime` and the tooltip.
 */
export function LocalTime({ value, withSeconds = false, className }: LocalTimeProps) {
  const hydrated = React.useSyncExternalStore(subscribe, onClient, onServer);
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) {
    return (
      <span className={className} title={String(value)}>
        Invalid date
      </span>
    );
  }
  const iso = date.toISOString();
  return (
    <time dateTime={iso} title={iso} className={className}>
      {hydrated ? formatLocal(date, withSeconds) : formatUtc(date, withSeconds)}
    </time>
  );
}
