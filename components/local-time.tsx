"use client";

import * as React from "react";
import { formatDateTime } from "@/lib/utils/format-date-time";

export type LocalTimeProps = {
  /** An ISO-8601 string or a Date. */
  value: string | Date;
  /** Include seconds (default false). */
  withSeconds?: boolean;
  className?: string;
};

const subscribe = () => () => {};
const onClient = () => true;
const onServer = () => false;

/**
 * `<time>` in the console's one format (lib/utils/format-date-time.ts). The server render and
 * hydration show UTC; right after hydration the same format shows the viewer's time zone with
 * its offset ("UTC+1"). The exact UTC timestamp is in `dateTime` and the tooltip.
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
      {formatDateTime(date, { withSeconds, offsetMinutes: hydrated ? -date.getTimezoneOffset() : 0 })}
    </time>
  );
}
