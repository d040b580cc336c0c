"use client";

import * as React from "react";
import { AuditTable } from "@/components/audit-table";
import { Button } from "@/components/ui/button";
import { fromLiveEvent, type LiveAuditEvent } from "@/lib/audit/live/live-event";
import { cn } from "@/lib/utils/cn";

// The audit page's events, kept up to date from the live stream (GET <streamPath>, Server-Sent
// Events; lib/audit/live/live-stream.ts). New events go on top; while the reader has scrolled away
// from the top they are held behind a "N new events" button instead, so rows never move under
// the reader's eyes. Pause holds arrivals the same way and says how many are waiting ("12 new
// events — Resume"); Resume shows them. Rows are keyed and de-duplicated by seq, so nothing
// appears twice.

export type LiveAuditTableProps = {
  /** The first page as rendered by the server, newest first (toLiveEvent). */
  events: LiveAuditEvent[];
  /** The stream's path, e.g. /t/acme/audit/stream. */
  streamPath: string;
  /** The page's filter as URL parameters (filterParams(filter).toString()); also kept in detail links. */
  filterQuery: string;
  /** The chain's head seq, read before the page's events: the stream starts after it. */
  headSeq: string;
  /** False on older pages and for time ranges that have ended: the table alone, no stream. */
  live: boolean;
  /** Shown when there are no events. */
  emptyMessage?: string;
  /** Rows kept on screen; older ones are reached with the pager. */
  maxRows?: number;
};

type Status =
  | { kind: "connecting" }
  | { kind: "live" }
  | { kind: "paused" }
  | { kind: "reconnecting" }
  | { kind: "stopped"; message: string };

const STATUS_TEXT: Record<Status["kind"], string> = {
  connecting: "Connecting…",
  live: "Live",
  paused: "Paused",
  reconnecting: "Reconnecting…",
  stopped: "Stopped",
};
const STATUS_DOT: Record<Status["kind"], string> = {
  connecting: "bg-muted-foreground",
  live: "bg-green-600",
  paused: "bg-muted-foreground",
  reconnecting: "bg-amber-500",
  stopped: "bg-destructive",
};

const RECONNECT_MS = [1_000, 2_000, 5_000, 10_000, 30_000];
/** Arrivals are applied together at most this often (a catch-up brings hundreds at once). */
const FLUSH_MS = 50;
/** How far the table's top may scroll above the viewport before new rows are held back. */
const AWAY_PX = 16;

export function LiveAuditTable(props: LiveAuditTableProps) {
  // Another filter or another page is a new view: start over rather than mix their rows. (The
  // same page rendered again, e.g. with an event's detail open, keeps its rows and its stream.)
  const { events } = props;
  const page = `${props.live ? "live" : "still"}:${events[0]?.seq ?? ""}-${events[events.length - 1]?.seq ?? ""}`;
  return <LiveAuditTableView key={`${props.streamPath}?${props.filterQuery}#${page}`} {...props} />;
}

type Shown = {
  /** On screen, newest first. */
  rows: LiveAuditEvent[];
  /** Arrived while the reader was scrolled away: the newest (at most maxRows) and how many in all. */
  held: { events: LiveAuditEvent[]; count: number };
  /** Whether rows were dropped off the bottom to stay within maxRows. */
  trimmed: boolean;
};

type ShownAction = { type: "arrived"; events: LiveAuditEvent[]; hold: boolean; max: number } | { type: "release"; max: number };

function shownReducer(state: Shown, action: ShownAction): Shown {
  if (action.type === "arrived" && action.hold) {
    const held = { events: [...action.events, ...state.held.events].slice(0, action.max), count: state.held.count + action.events.length };
    return { ...state, held };
  }
  const fresh = action.type === "arrived" ? action.events : state.held.events;
  const dropped = action.type === "release" && state.held.count > state.held.events.length;
  if (fresh.length === 0 && state.held.count === 0) return state;
  const rows = [...fresh, ...state.rows];
  return {
    rows: rows.slice(0, action.max),
    held: action.type === "release" ? { events: [], count: 0 } : state.held,
    trimmed: state.trimmed || dropped || rows.length > action.max,
  };
}

function LiveAuditTableView({ events, streamPath, filterQuery, headSeq, live, emptyMessage = "No events yet.", maxRows = 300 }: LiveAuditTableProps) {
  const [{ rows, held, trimmed }, dispatch] = React.useReducer(shownReducer, events, (initial) => ({
    rows: initial.slice(0, maxRows),
    held: { events: [], count: 0 },
    trimmed: false,
  }));
  const [running, setRunning] = React.useState(true);
  const [status, setStatus] = React.useState<Status>({ kind: "connecting" });

  const container = React.useRef<HTMLDivElement>(null);
  // The stream sends each event once, in seq order, starting after the head read before the
  // page; the page may already hold some of the first ones (it was read after the head).
  const [onPage] = React.useState(() => new Set(events.map((e) => e.seq)));
  const lastSeq = React.useRef<bigint>(/^\d{1,19}$/.test(headSeq) ? BigInt(headSeq) : 0n);
  const away = React.useRef(false);
  const paused = React.useRef(false);
  const queue = React.useRef<LiveAuditEvent[]>([]);
  const flushTimer = React.useRef<ReturnType<typeof setTimeout> | null>(null);

  const releaseHeld = React.useCallback(() => dispatch({ type: "release", max: maxRows }), [maxRows]);

  const flush = React.useCallback(() => {
    flushTimer.current = null;
    const arrived = queue.current;
    queue.current = [];
    const fresh = arrived.filter((event) => !onPage.has(event.seq)).reverse();
    if (fresh.length > 0) dispatch({ type: "arrived", events: fresh, hold: away.current || paused.current, max: maxRows });
  }, [maxRows, onPage]);

  // Whether the reader has scrolled the newest rows out of view; coming back shows what was held.
  React.useEffect(() => {
    if (!live) return;
    const onScroll = () => {
      const top = container.current?.getBoundingClientRect().top ?? 0;
      const nowAway = top < -AWAY_PX;
      if (away.current && !nowAway && !paused.current) releaseHeld();
      away.current = nowAway;
    };
    onScroll();
    window.addEventListener("scroll", onScroll, { passive: true });
    window.addEventListener("resize", onScroll, { passive: true });
    return () => {
      window.removeEventListener("scroll", onScroll);
      window.removeEventListener("resize", onScroll);
    };
  }, [live, releaseHeld]);

  // The stream, while live (paused too: arrivals are held and counted). Each (re)connection
  // resumes after the last event seen.
  React.useEffect(() => {
    if (!live) return;
    let source: EventSource | null = null;
    let retryTimer: ReturnType<typeof setTimeout> | null = null;
    let probe: AbortController | null = null;
    let attempt = 0;
    let ended = false;

    const url = () => {
      const params = new URLSearchParams(filterQuery);
      params.set("after", lastSeq.current.toString());
      return `${streamPath}?${params}`;
    };

    const connect = () => {
      if (ended) return;
      const es = new EventSource(url());
      source = es;
      es.onopen = () => {
        attempt = 0;
        setStatus({ kind: "live" });
      };
      es.addEventListener("audit", (message) => {
        let event: LiveAuditEvent;
        try {
          event = JSON.parse((message as MessageEvent<string>).data) as LiveAuditEvent;
        } catch {
          return;
        }
        // Never twice, whatever a reconnect replays: only seqs above the last one taken.
        const seq = BigInt(event.seq);
        if (seq <= lastSeq.current) return;
        lastSeq.current = seq;
        queue.current.push(event);
        flushTimer.current ??= setTimeout(flush, FLUSH_MS);
      });
      es.onerror = () => {
        if (ended) return;
        // CONNECTING: the browser reconnects by itself, sending Last-Event-ID.
        if (es.readyState === EventSource.CONNECTING) {
          setStatus({ kind: "reconnecting" });
          return;
        }
        // CLOSED: the server refused (or sent no stream). Ask why before trying again.
        es.close();
        source = null;
        setStatus({ kind: "reconnecting" });
        void diagnose();
      };
    };

    const diagnose = async () => {
      const controller = new AbortController();
      probe = controller;
      let verdict: Status | null = null;
      try {
        const response = await fetch(url(), { signal: controller.signal, headers: { accept: "text/event-stream" }, cache: "no-store" });
        if (response.status === 401 || response.redirected) {
          verdict = { kind: "stopped", message: "Your session has ended. Sign in again to see new events." };
        } else if (response.status === 404) {
          verdict = { kind: "stopped", message: "You no longer have access to this trail." };
        } else if (response.status === 400) {
          const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
          verdict = { kind: "stopped", message: body?.error?.message ?? "The live view's parameters were refused." };
        }
      } catch {
        // Offline or the server is restarting: try again below.
      } finally {
        controller.abort();
        if (probe === controller) probe = null;
      }
      if (ended) return;
      if (verdict) {
        setStatus(verdict);
        return;
      }
      const delay = RECONNECT_MS[Math.min(attempt++, RECONNECT_MS.length - 1)]!;
      retryTimer = setTimeout(connect, delay);
    };

    connect();
    return () => {
      ended = true;
      source?.close();
      probe?.abort();
      if (retryTimer) clearTimeout(retryTimer);
      if (flushTimer.current) {
        clearTimeout(flushTimer.current);
        flush();
      }
    };
  }, [live, streamPath, filterQuery, flush]);

  const tableEvents = React.useMemo(() => rows.map(fromLiveEvent), [rows]);

  const resume = () => {
    paused.current = false;
    setRunning(true);
    // Scrolled away, what arrived waits behind the "N new events" marker as usual.
    if (!away.current) releaseHeld();
  };

  const showHeld = () => {
    releaseHeld();
    away.current = false;
    container.current?.scrollIntoView({ block: "start" });
  };

  const shownStatus: Status = live && !running ? { kind: "paused" } : status;

  return (
    <div ref={container} className="scroll-mt-4">
      {live ? (
        <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
          <p role="status" aria-live="polite" className="flex items-center gap-2 text-sm text-muted-foreground" data-testid="live-status">
            <span aria-hidden className={cn("inline-block size-2 rounded-full", STATUS_DOT[shownStatus.kind])} />
            <span>{STATUS_TEXT[shownStatus.kind]}</span>
            {shownStatus.kind === "stopped" ? <span>— {shownStatus.message}</span> : null}
          </p>
          <Button
            type="button"
            variant="outline"
            size="sm"
            onClick={() => {
              if (running) {
                paused.current = true;
                setRunning(false);
              } else resume();
            }}
            disabled={shownStatus.kind === "stopped"}
          >
            {running ? "Pause" : held.count > 0 ? `${newEvents(held.count)} — Resume` : "Resume"}
          </Button>
        </div>
      ) : null}
      {held.count > 0 && running ? (
        // Floating at the bottom of the window, where the reader is, clear of the sticky header.
        <div className="fixed inset-x-0 bottom-4 z-50 flex justify-center">
          <Button type="button" size="sm" onClick={showHeld} className="shadow-md">
            <span aria-hidden="true">↑</span> {newEvents(held.count)}
          </Button>
        </div>
      ) : null}
      {tableEvents.length === 0 ? (
        <p className="py-6 text-center text-sm text-muted-foreground">{emptyMessage}</p>
      ) : (
        <AuditTable events={tableEvents} detailQuery={filterQuery} />
      )}
      {trimmed ? (
        <p className="mt-2 text-xs text-muted-foreground">
          Showing the newest {maxRows} events. Reload the page to page through older ones.
        </p>
      ) : null}
    </div>
  );
}

function newEvents(count: number): string {
  return count === 1 ? "1 new event" : `${count} new events`;
}
