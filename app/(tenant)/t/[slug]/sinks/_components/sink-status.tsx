import { ACTION_LABELS } from "@/components/audit-table";
import { LocalTime } from "@/components/local-time";
import type { SinkView } from "@/lib/sinks";
import { OUTCOME_LABELS } from "../sink-form-names";

// One sink's configuration and delivery state, as admins and auditors read it.

const plural = (n: number, word: string) => `${n.toLocaleString("en")} ${word}${n === 1 ? "" : "s"}`;

/** Why the badge says what it says. */
export function healthReason(sink: SinkView) {
  const st = sink.status;
  switch (st.health) {
    case "disabled":
      return <>Paused: nothing is sent. Enabled again, it catches up from where it stopped.</>;
    case "failing":
      return (
        <>
          {plural(st.failed.events, "event")} could not be delivered
          {st.failed.oldestAt ? (
            <>
              {" "}
              (since <LocalTime value={st.failed.oldestAt} />)
            </>
          ) : null}
          . Fix the receiver, then retry them.
        </>
      );
    case "retrying":
      return (
        <>
          {st.consecutiveFailures > 0 ? `${plural(st.consecutiveFailures, "attempt")} failed in a row; ` : "Deliveries are being retried; "}
          {st.nextRetryAt ? (
            <>
              next retry <LocalTime value={st.nextRetryAt} withSeconds />.
            </>
          ) : (
            "retrying with backoff."
          )}
        </>
      );
    case "healthy":
      return st.lastSuccessAt ? <>Delivering.</> : <>Nothing delivered yet: waiting for the first batch.</>;
  }
}

function Row({ label, children, testId }: { label: string; children: React.ReactNode; testId?: string }) {
  return (
    <div className="grid gap-0.5">
      <dt className="text-xs text-muted-foreground">{label}</dt>
      <dd className="text-sm break-words" data-testid={testId}>
        {children}
      </dd>
    </div>
  );
}

export function SinkStatusDetails({ sink }: { sink: SinkView }) {
  const st = sink.status;
  const perMinuteLastHour = Math.round((st.delivered.lastHour / 60) * 10) / 10;
  return (
    <dl className="grid gap-x-6 gap-y-3 sm:grid-cols-2 lg:grid-cols-3">
      <Row label="Kind">{sink.kindLabel}</Row>
      <Row label="Target" testId="sink-target">
        <span className="font-mono text-xs">{sink.target}</span>
      </Row>
      <Row label="Enabled">{sink.enabled ? "yes" : "no (paused)"}</Row>
      <Row label="Last success" testId="sink-last-success">
        {st.lastSuccessAt ? <LocalTime value={st.lastSuccessAt} withSeconds /> : "never"}
      </Row>
      <Row label="Last error" testId="sink-last-error">
        {st.lastError ? (
          <span className="text-destructive">
            {st.lastError}
            {st.lastErrorAt ? (
              <span className="text-muted-foreground">
                {" "}
                (<LocalTime value={st.lastErrorAt} withSeconds />)
              </span>
            ) : null}
          </span>
        ) : (
          "none"
        )}
      </Row>
      <Row label="Backlog" testId="sink-backlog">
        {plural(st.backlog.queuedEvents, "event")} queued in {plural(st.backlog.queuedBatches, "batch").replace(/batchs$/, "batches")}
        {st.backlog.notYetQueued > 0 ? `; up to ${st.backlog.notYetQueued.toLocaleString("en")} newer events still to be looked at` : ""}
      </Row>
      <Row label="Delivery rate" testId="sink-rate">
        {perMinuteLastHour} events/min over the last hour ({plural(st.delivered.lastHour, "event")}); {st.delivered.perMinute}/min over the last
        5 minutes; {st.delivered.total.toLocaleString("en")} in all
      </Row>
      <Row label="Failed" testId="sink-failed">
        {st.failed.events > 0 ? (
          <span className="text-destructive">
            {plural(st.failed.events, "event")} in {plural(st.failed.batches, "batch").replace(/batchs$/, "batches")}
          </span>
        ) : (
          "none"
        )}
      </Row>
      <Row label="Filters">
        {sink.filter.outcomes.length ? sink.filter.outcomes.map((o) => OUTCOME_LABELS[o]).join(", ") : "every outcome"};{" "}
        {sink.filter.actions.length ? sink.filter.actions.map((a) => ACTION_LABELS[a] ?? a).join(", ") : "every action"}
      </Row>
      {st.skipped.events > 0 ? (
        <Row label="Skipped">
          <span className="text-destructive">
            {plural(st.skipped.events, "event")} were deleted by retention before they could be sent
            {st.skipped.at ? (
              <>
                {" "}
                (<LocalTime value={st.skipped.at} />)
              </>
            ) : null}
            .
          </span>
        </Row>
      ) : null}
    </dl>
  );
}
