import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type ChainedFields, GENESIS_HASH, canonicalJson, eventTail, hashEvent, verifyChain } from "./chain";

function chainOf(count: number) {
  const events: Array<ChainedFields & { prevHash: string; hash: string }> = [];
  let prev = GENESIS_HASH;
  for (let i = 1; i <= count; i++) {
    const fields: ChainedFields = {
      chain: "t1",
      seq: BigInt(i),
      occurredAt: new Date(Date.UTC(2026, 10, 29, 10, 0, i)),
      tenantId: "6f1c1c2e-8a39-4d7e-9d7a-1a2b3c4d5e6f",
      actorType: "user",
      actorId: "u1",
      actorLabel: "ada@acme.example",
      action: "member.invited",
      targetType: "membership",
      targetId: `m${i}`,
      outcome: "success",
      sourceIp: "10.0.0.1",
      userAgent: "test",
      requestId: `r${i}`,
      details: { email: `p${i}@acme.example`, role: "auditor" },
    };
    const hash = hashEvent(prev, fields);
    events.push({ ...fields, prevHash: prev, hash });
    prev = hash;
  }
  return events;
}

describe("canonicalJson", () => {
  it("hashes exactly sha256(prev, newline, the canonical JSON array of the fields) — the database's batch append relies on it", () => {
    const [event] = chainOf(1);
    const f = event!;
    const array = [f.chain, f.seq.toString(), f.occurredAt.toISOString(), f.tenantId, f.actorType, f.actorId, f.actorLabel, f.action, f.targetType, f.targetId, f.outcome, f.sourceIp, f.userAgent, f.requestId, f.details];
    const expected = createHash("sha256").update(`${GENESIS_HASH}\n${canonicalJson(array)}`).digest("hex");
    expect(f.hash).toBe(expected);
    expect(canonicalJson(array)).toBe(`["t1","1","${f.occurredAt.toISOString()}",${eventTail(f)}]`);
  });

  it("ignores key order at every depth, as jsonb does", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, { y: 2, z: 1 }] }, b: 1 }),
    );
  });

  it("keeps values that differ distinct", () => {
    expect(canonicalJson({ a: "1" })).not.toBe(canonicalJson({ a: 1 }));
    expect(canonicalJson(["a,b"])).not.toBe(canonicalJson(["a", "b"]));
  });
});

describe("verifyChain", () => {
  it("accepts an untouched chain", () => {
    expect(verifyChain(chainOf(5))).toBeNull();
  });

  it("locates an edited field", () => {
    const events = chainOf(5);
    events[2] = { ...events[2]!, actorLabel: "mallory@evil.example" };
    expect(verifyChain(events)).toEqual({ seq: 3n, reason: "hash_mismatch" });
  });

  it("catches an edit that recomputes its own hash, at the next event", () => {
    const events = chainOf(5);
    const forged = { ...events[1]!, outcome: "denied" };
    forged.hash = hashEvent(forged.prevHash, forged);
    events[1] = forged;
    expect(verifyChain(events)).toEqual({ seq: 3n, reason: "prev_hash_mismatch" });
  });

  it("locates a deleted event", () => {
    const events = chainOf(5);
    events.splice(3, 1);
    expect(verifyChain(events)).toEqual({ seq: 5n, reason: "sequence_gap" });
  });

  it("catches reordered events", () => {
    const events = chainOf(4);
    [events[1], events[2]] = [events[2]!, events[1]!];
    expect(verifyChain(events)?.seq).toBe(3n);
  });

  it("continues from a checkpoint", () => {
    const events = chainOf(6);
    const start = { prevHash: events[2]!.hash, seq: 3n };
    expect(verifyChain(events.slice(3), start)).toBeNull();
    expect(verifyChain(events.slice(4), start)).toEqual({ seq: 5n, reason: "sequence_gap" });
  });
});
