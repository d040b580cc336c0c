import "server-only";
import { randomUUID } from "node:crypto";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { AUDIT_ACTIONS, recordAuditEvent } from "@/lib/audit";
import { getConfig } from "@/lib/config";
import { AppError } from "@/lib/errors";
import { errorFields, log } from "@/lib/log";
import { actorOf, type Caller, type Standing, tenantChange } from "@/lib/authz";
import { sinkActionSchema } from "@/lib/validation/sinks";
import { storedSinkConfig } from "../config";
import { SINK_KINDS, sendBatchWith, type SinkKindRegistry } from "../kinds";
import { sinkPolicy } from "../policy";
import { SinkDeliveryError, type SinkEvent, type SinkTransport } from "../types";
import { sanitizeDeliveryError } from "../worker";
import { notFound, parse, TARGET_TYPE } from "./shared";

export type TestResult = { ok: boolean; message: string; ms: number };

// Each test connects to the receiver and is an event in the trail: a bound per sink keeps a
// tenant admin (or a stuck button) from turning Custody into a load generator against a
// receiver, or from filling the trail with tests. In this process's memory, per instance.
const shared = globalThis as unknown as { custodySinkTests?: { perMinute: number; limiter: RateLimiterMemory } };

function testLimiter(): { perMinute: number; limiter: RateLimiterMemory } {
  const perMinute = getConfig().SINK_TESTS_PER_MINUTE;
  if (shared.custodySinkTests?.perMinute !== perMinute) {
    shared.custodySinkTests = { perMinute, limiter: new RateLimiterMemory({ keyPrefix: "sink-tests", points: perMinute, duration: 60 }) };
  }
  return shared.custodySinkTests;
}

async function admitTest(sinkId: string): Promise<void> {
  const { perMinute, limiter } = testLimiter();
  try {
    await limiter.consume(sinkId);
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
    throw new AppError("rate_limited", `This sink was tested ${perMinute} times in the last minute. Try again in ${seconds} s.`);
  }
}

/** The synthetic event a test sends: marked as a test, with no place in any chain (seq 0, zero hashes). */
function testEvent(tenantId: string, sinkId: string, caller: Caller, standing: Standing): SinkEvent {
  const actor = actorOf(caller, standing);
  return {
    id: `test:${randomUUID()}`,
    chain: tenantId,
    seq: "0",
    occurredAt: new Date().toISOString(),
    tenantId,
    actorType: actor.type,
    actorId: actor.id,
    actorLabel: actor.label,
    action: AUDIT_ACTIONS.sinkTested,
    targetType: TARGET_TYPE,
    targetId: sinkId,
    outcome: "success",
    sourceIp: caller.request.sourceIp,
    userAgent: caller.request.userAgent,
    requestId: caller.request.requestId,
    details: { test: true, message: "A test event from Custody: this sink is reachable. It is not part of the audit trail." },
    prevHash: "0".repeat(64),
    hash: "0".repeat(64),
  };
}

/**
 * Sends a synthetic event to the sink now, through the same transport and SSRF guard as the
 * outbox, and says what happened. The event is not in the trail; the test is (`sink.tested`,
 * with its outcome and the sanitised error), and so it reaches the sink's next batch too.
 */
export async function sendTestEvent(
  caller: Caller,
  input: { tenantId: string; sinkId: string },
  transport?: SinkTransport,
  kinds: SinkKindRegistry = SINK_KINDS,
): Promise<TestResult> {
  const { tenantId, sinkId } = parse(sinkActionSchema, input);
  const action = AUDIT_ACTIONS.sinkTested;
  const attempt = { tenantId, action, target: { type: TARGET_TYPE, id: sinkId } };
  const { sink, standing } = await tenantChange(caller, attempt, async ({ tx, standing }) => {
    const sink = await tx.logSink.findFirst({ where: { id: sinkId, tenantId } });
    if (!sink) throw notFound();
    return { sink, standing };
  });
  await admitTest(sink.id);
  const send = transport ?? sendBatchWith(kinds);
  const started = Date.now();
  let secret: string | null = null;
  let result: TestResult;
  try {
    const built = storedSinkConfig(sink, kinds);
    secret = built.secret;
    await send(built.config, [testEvent(tenantId, sinkId, caller, standing)], {
      allowPrivateTargets: sinkPolicy().allowPrivateTargets,
      allowHttp: sinkPolicy().allowHttp,
      timeoutMs: 10_000,
      signal: AbortSignal.timeout(10_000),
    });
    result = { ok: true, message: "The receiver accepted the test event.", ms: Date.now() - started };
  } catch (error) {
    if (!(error instanceof SinkDeliveryError)) log.warn({ sinkId, ...errorFields(error) }, "sink test failed");
    result = { ok: false, message: sanitizeDeliveryError(error, secret), ms: Date.now() - started };
  }
  await recordAuditEvent({
    tenantId,
    actor: actorOf(caller, standing),
    action,
    target: { type: TARGET_TYPE, id: sinkId },
    outcome: result.ok ? "success" : "failure",
    request: caller.request,
    details: { name: sink.name, kind: sink.kind, result: result.message, ms: result.ms },
  });
  return result;
}
