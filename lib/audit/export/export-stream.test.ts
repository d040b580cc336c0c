import { describe, expect, it } from "vitest";
import type { AuditEvent } from "@/lib/db/generated/client";
import { GENESIS_HASH } from "../trail/chain";
import { type ExportEnd, exportStream } from "./export-stream";

// The stream's contract with its reader, with a stand-in for the database: it reads only as
// fast as the reader takes chunks, and stops reading when the reader or the request goes away.

function event(n: number): AuditEvent {
  return {
    id: BigInt(n),
    chain: "t",
    seq: BigInt(n),
    occurredAt: new Date(1_700_000_000_000 + n),
    tenantId: null,
    actorType: "USER",
    actorId: "u",
    actorLabel: "ada@example.com",
    action: "auth.sign_in",
    targetType: null,
    targetId: null,
    outcome: "SUCCESS",
    sourceIp: null,
    userAgent: null,
    requestId: `req-${n}`,
    details: null,
    prevHash: GENESIS_HASH,
    hash: GENESIS_HASH,
  };
}

/** A source of `total` events that counts how many were read and whether it was closed. */
function source(total: number) {
  const state = { read: 0, closed: false };
  async function* events(): AsyncGenerator<AuditEvent> {
    try {
      for (let n = 1; n <= total; n++) {
        await Promise.resolve();
        state.read = n;
        yield event(n);
      }
    } finally {
      state.closed = true;
    }
  }
  return { state, events: events() };
}

// The stand-in source and the stream work in microtasks only: once a macrotask runs, every
// read the stream would make on its own has been made (no clock involved, however busy the machine).
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("the export stream", () => {
  it("writes a header and one record per event, and reports the end", async () => {
    const { events } = source(3);
    let end: ExportEnd | undefined;
    const text = await new Response(exportStream(events, "csv", { onEnd: (e) => (end = e) })).text();
    const lines = text.split("\r\n");
    expect(lines[0]).toMatch(/^chain,seq,/);
    expect(lines.slice(1, -1).map((l) => l.split(",")[1])).toEqual(['"1"', '"2"', '"3"']);
    expect(lines.at(-1)).toBe("");
    expect(end).toEqual({ outcome: "complete", events: 3, bytes: Buffer.byteLength(text), error: undefined });
  });

  it("reads ahead no further than the chunk the reader has not taken yet", async () => {
    const { state, events } = source(100_000);
    const reader = exportStream(events, "jsonl", { chunkChars: 4_096 }).getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    await settle();
    const perChunk = Math.ceil(4_096 / first.value!.byteLength) + 1; // events behind one chunk, with slack
    const readAfterOne = state.read;
    // One chunk handed over, at most one more queued: a pushing stream would have read far on.
    expect(readAfterOne).toBeLessThan(4 * Math.max(perChunk, 40));
    await reader.read();
    await settle();
    expect(state.read).toBeGreaterThan(readAfterOne);
    expect(state.read).toBeLessThan(8 * Math.max(perChunk, 40));
    await reader.cancel();
  });

  it("stops reading and closes the source when the reader cancels", async () => {
    const { state, events } = source(100_000);
    let end: ExportEnd | undefined;
    const reader = exportStream(events, "csv", { chunkChars: 1_024, onEnd: (e) => (end = e) }).getReader();
    await reader.read();
    await reader.cancel();
    await settle();
    const readAtCancel = state.read;
    await settle();
    expect(state.closed).toBe(true);
    expect(state.read).toBe(readAtCancel);
    expect(state.read).toBeLessThan(1_000);
    expect(end?.outcome).toBe("cancelled");
  });

  it("stops reading when the request is aborted, and the reader sees an error, not a short file", async () => {
    const { state, events } = source(100_000);
    const abort = new AbortController();
    const reader = exportStream(events, "jsonl", { chunkChars: 1_024, signal: abort.signal }).getReader();
    await reader.read();
    abort.abort();
    await expect(
      (async () => {
        for (;;) if ((await reader.read()).done) return "done";
      })(),
    ).rejects.toThrow("export cancelled");
    await settle();
    expect(state.closed).toBe(true);
    expect(state.read).toBeLessThan(1_000);
  });

  it("fails the stream when the source fails, so the download is not taken for complete", async () => {
    async function* failing(): AsyncGenerator<AuditEvent> {
      yield event(1);
      throw new Error("connection reset");
    }
    let end: ExportEnd | undefined;
    const body = exportStream(failing(), "csv", { onEnd: (e) => (end = e) });
    await expect(new Response(body).text()).rejects.toThrow();
    expect(end?.outcome).toBe("failed");
  });
});
