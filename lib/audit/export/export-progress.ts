// What the console's export button needs to show progress while a download streams in: a
// count of records in the bytes so far, and the file name the server chose. Pure code with no
// server dependencies, so the client bundle can import it.

export type RecordCounter = {
  /** Feeds the next chunk of the file; returns the records completed so far. */
  push(chunk: Uint8Array): number;
  readonly records: number;
};

const LF = 0x0a;
const QUOTE = 0x22;

/**
 * Counts complete records. JSON Lines: one per line feed. CSV: line feeds outside quoted cells
 * (a quoted cell may hold line breaks; a doubled quote toggles twice, so it cancels out), less
 * the header row.
 */
export function createRecordCounter(format: "csv" | "jsonl"): RecordCounter {
  let lines = 0;
  let quoted = false;
  const records = () => (format === "csv" ? Math.max(lines - 1, 0) : lines);
  return {
    push(chunk) {
      if (format === "jsonl") {
        for (let i = chunk.indexOf(LF); i !== -1; i = chunk.indexOf(LF, i + 1)) lines += 1;
      } else {
        for (const byte of chunk) {
          if (byte === QUOTE) quoted = !quoted;
          else if (byte === LF && !quoted) lines += 1;
        }
      }
      return records();
    },
    get records() {
      return records();
    },
  };
}

/** The `filename="…"` of a Content-Disposition header, or null. */
export function fileNameFromDisposition(header: string | null): string | null {
  const match = header ? /filename="([^"\\/]+)"/.exec(header) : null;
  return match ? match[1]! : null;
}
