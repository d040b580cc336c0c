"use server";

import { revalidatePath } from "next/cache";
import { callerFor, getPrincipal } from "@/lib/auth/principal";
import { type ActionResult, actionResult, parseForm } from "@/lib/http/action-result";
import { createSink, deleteSink, retryFailedDeliveries, sendTestEvent, setSinkEnabled, type TestResult, updateSink } from "@/lib/sinks";
import { secretFieldNames } from "@/lib/sinks/kinds";
import { type CreateSinkInput, sinkActionSchema, type UpdateSinkInput } from "@/lib/validation/sinks";
import { sinkInputOf } from "./sink-form-fields";

// The sinks page only shows these to tenant admins; lib/sinks decides, on the server, and audits.

/** A webhook's signing secret, shown once right after it is generated (create or rotate). */
export type IssuedSecret = { sinkId: string; name: string; secret: string | null };

async function signedInCaller() {
  const principal = await getPrincipal();
  return principal ? callerFor(principal) : null;
}

const SIGNED_OUT = { ok: false, code: "unauthenticated", message: "Your session has ended. Sign in again." } as const;

function refresh() {
  revalidatePath("/t/[slug]/sinks", "layout");
}

/**
 * The form as echoed back on a refusal (to keep what was typed): without an entered secret (a
 * HEC token), which is never sent back to a browser once submitted.
 */
function echoable(formData: FormData): FormData {
  const secrets = secretFieldNames();
  const copy = new FormData();
  for (const [name, value] of formData.entries()) if (!secrets.includes(name)) copy.append(name, value);
  return copy;
}

export async function createSinkAction(_prev: ActionResult<IssuedSecret> | null, formData: FormData) {
  return actionResult<IssuedSecret>(echoable(formData), async () => {
    const caller = await signedInCaller();
    if (!caller) return SIGNED_OUT;
    const input = sinkInputOf(formData);
    // Unvalidated on purpose: the data layer parses the whole input (zod) and answers with per-field errors.
    const created = await createSink(caller, input as unknown as CreateSinkInput);
    refresh();
    return {
      ok: true,
      message: `Log sink "${String(input.name).trim()}" added. It receives events from now on, starting with its own creation.`,
      data: { sinkId: created.sinkId, name: String(input.name).trim(), secret: created.secret },
    };
  });
}

export async function updateSinkAction(_prev: ActionResult<IssuedSecret> | null, formData: FormData) {
  return actionResult<IssuedSecret>(echoable(formData), async () => {
    const caller = await signedInCaller();
    if (!caller) return SIGNED_OUT;
    const input = sinkInputOf(formData);
    const updated = await updateSink(caller, input as unknown as UpdateSinkInput);
    refresh();
    return {
      ok: true,
      message: updated.secret ? "Saved. The webhook has a new signing secret: copy it now." : "Saved. Changes apply to events not yet queued.",
      data: { sinkId: updated.sinkId, name: String(input.name).trim(), secret: updated.secret },
    };
  });
}

export async function setSinkEnabledAction(_prev: ActionResult | null, formData: FormData): Promise<ActionResult> {
  return actionResult(formData, async () => {
    const caller = await signedInCaller();
    if (!caller) return SIGNED_OUT;
    const input = parseForm(sinkActionSchema, formData);
    if (!input.ok) return input.result;
    const enabled = formData.get("enabled") === "true";
    await setSinkEnabled(caller, { ...input.data, enabled });
    refresh();
    return { ok: true, message: enabled ? "Enabled: it catches up from where it stopped." : "Disabled: nothing is sent until you enable it again." };
  });
}

export async function deleteSinkAction(_prev: ActionResult | null, formData: FormData): Promise<ActionResult> {
  return actionResult(formData, async () => {
    const caller = await signedInCaller();
    if (!caller) return SIGNED_OUT;
    const input = parseForm(sinkActionSchema, formData);
    if (!input.ok) return input.result;
    await deleteSink(caller, input.data);
    refresh();
    return { ok: true, message: "Log sink deleted." };
  });
}

export async function retrySinkAction(_prev: ActionResult | null, formData: FormData): Promise<ActionResult> {
  return actionResult(formData, async () => {
    const caller = await signedInCaller();
    if (!caller) return SIGNED_OUT;
    const input = parseForm(sinkActionSchema, formData);
    if (!input.ok) return input.result;
    const { batches, events } = await retryFailedDeliveries(caller, input.data);
    refresh();
    return {
      ok: true,
      message: batches === 0 ? "Nothing had failed." : `${events} event${events === 1 ? "" : "s"} in ${batches} batch${batches === 1 ? "" : "es"} queued again.`,
    };
  });
}

export async function testSinkAction(_prev: ActionResult<TestResult> | null, formData: FormData) {
  return actionResult<TestResult>(formData, async () => {
    const caller = await signedInCaller();
    if (!caller) return SIGNED_OUT;
    const input = parseForm(sinkActionSchema, formData);
    if (!input.ok) return input.result;
    const result = await sendTestEvent(caller, input.data);
    refresh();
    return { ok: true, data: result, message: result.message };
  });
}
