"use server";

import { revalidatePath } from "next/cache";
import { authedAction, UNPARSED_FORM } from "@/lib/http/authed-action";
import { createSink, deleteSink, retryFailedDeliveries, sendTestEvent, setSinkEnabled, updateSink } from "@/lib/sinks";
import { secretFieldNames } from "@/lib/sinks/kinds";
import { type CreateSinkInput, sinkActionSchema, type UpdateSinkInput } from "@/lib/validation/sinks";
import { sinkInputOf } from "./sink-form-fields";

// The sinks page only shows these to tenant admins; lib/sinks decides, on the server, and audits.

/** A webhook's signing secret, shown once right after it is generated (create or rotate). */
export type IssuedSecret = { sinkId: string; name: string; secret: string | null };

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

export const createSinkAction = authedAction(
  UNPARSED_FORM,
  async (_fields, { caller, formData }) => {
    const input = sinkInputOf(formData);
    // Unvalidated on purpose: the data layer parses the whole input (zod) and answers with per-field errors.
    const created = await createSink(caller, input as unknown as CreateSinkInput);
    refresh();
    return {
      ok: true,
      message: `Log sink "${String(input.name).trim()}" added. It receives events from now on, starting with its own creation.`,
      data: { sinkId: created.sinkId, name: String(input.name).trim(), secret: created.secret },
    };
  },
  { echo: echoable },
);

export const updateSinkAction = authedAction(
  UNPARSED_FORM,
  async (_fields, { caller, formData }) => {
    const input = sinkInputOf(formData);
    const updated = await updateSink(caller, input as unknown as UpdateSinkInput);
    refresh();
    return {
      ok: true,
      message: updated.secret ? "Saved. The webhook has a new signing secret: copy it now." : "Saved. Changes apply to events not yet queued.",
      data: { sinkId: updated.sinkId, name: String(input.name).trim(), secret: updated.secret },
    };
  },
  { echo: echoable },
);

export const setSinkEnabledAction = authedAction(sinkActionSchema, async (input, { caller, formData }) => {
  const enabled = formData.get("enabled") === "true";
  await setSinkEnabled(caller, { ...input, enabled });
  refresh();
  return { ok: true, message: enabled ? "Enabled: it catches up from where it stopped." : "Disabled: nothing is sent until you enable it again." };
});

export const deleteSinkAction = authedAction(sinkActionSchema, async (input, { caller }) => {
  await deleteSink(caller, input);
  refresh();
  return { ok: true, message: "Log sink deleted." };
});

export const retrySinkAction = authedAction(sinkActionSchema, async (input, { caller }) => {
  const { batches, events } = await retryFailedDeliveries(caller, input);
  refresh();
  return {
    ok: true,
    message: batches === 0 ? "Nothing had failed." : `${events} event${events === 1 ? "" : "s"} in ${batches} batch${batches === 1 ? "" : "es"} queued again.`,
  };
});

export const testSinkAction = authedAction(sinkActionSchema, async (input, { caller }) => {
  const result = await sendTestEvent(caller, input);
  refresh();
  return { ok: true, data: result, message: result.message };
});
