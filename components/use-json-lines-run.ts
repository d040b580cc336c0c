"use client";

import { useEffect, useRef, useState } from "react";

// A long-running server check streamed back as JSON lines (progress lines, then one result or
// error line): the key verification (lib/keys/verify-stream.ts) and the audit integrity check
// (lib/audit/integrity/integrity-stream.ts). The one client-side reader of both: it POSTs,
// reads line by line, keeps the latest state, and stops reading when the component unmounts.

type JsonLine = { type: "progress" } | { type: "result" } | { type: "error"; message: string };

export type RunState<Progress, Result> =
  | { phase: "idle" }
  | { phase: "running"; progress: Progress | null }
  | { phase: "done"; result: Result }
  | { phase: "error"; message: string };

export type JsonLinesRunOptions<Line extends JsonLine, Progress> = {
  /** What a progress line becomes in the state. */
  progress: (line: Extract<Line, { type: "progress" }>) => Progress;
  /** The message when the server refuses to start (its HTTP status). */
  notStarted: (status: number) => string;
  /** The message when the stream ends before a result or error line. */
  endedEarly: string;
  /** Called once a result or error line has arrived. */
  onFinished?: () => void;
};

const CONNECTION_LOST = "The connection to the server was lost. Please try again.";

/** Reads the response's lines until it ends; returns whether a result or error line came. */
async function readLines<Line extends JsonLine>(body: NonNullable<Response["body"]>, onLine: (line: Line) => void): Promise<boolean> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let finished = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return finished;
    buffer += value;
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = JSON.parse(buffer.slice(0, newline)) as Line;
      buffer = buffer.slice(newline + 1);
      if (line.type !== "progress") finished = true;
      onLine(line);
    }
  }
}

export function useJsonLinesRun<Line extends JsonLine, Progress>(options: JsonLinesRunOptions<Line, Progress>) {
  type Result = Extract<Line, { type: "result" }>;
  const [state, setState] = useState<RunState<Progress, Result>>({ phase: "idle" });
  const running = useRef<AbortController | null>(null);
  useEffect(() => () => running.current?.abort(), []);

  function onLine(line: Line): void {
    if (line.type === "progress") setState({ phase: "running", progress: options.progress(line as Extract<Line, { type: "progress" }>) });
    else if (line.type === "result") setState({ phase: "done", result: line as Result });
    else setState({ phase: "error", message: (line as Extract<JsonLine, { type: "error" }>).message });
  }

  /** POSTs to the check's route and follows its lines. */
  async function run(url: string): Promise<void> {
    const controller = new AbortController();
    running.current = controller;
    setState({ phase: "running", progress: null });
    try {
      const response = await fetch(url, { method: "POST", signal: controller.signal });
      if (!response.ok || !response.body) {
        setState({ phase: "error", message: options.notStarted(response.status) });
        return;
      }
      if (!(await readLines(response.body, onLine))) setState({ phase: "error", message: options.endedEarly });
      else options.onFinished?.();
    } catch {
      if (!controller.signal.aborted) setState({ phase: "error", message: CONNECTION_LOST });
    } finally {
      if (running.current === controller) running.current = null;
    }
  }

  return { state, run };
}
