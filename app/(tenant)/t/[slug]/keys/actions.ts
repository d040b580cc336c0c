"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { authedAction } from "@/lib/http/authed-action";
import { registerKmsKey, removeKmsKey, restoreAccess, retireTenantKey, revokeAccess, rotateTenantKey, setKeyGrants, setRotationSchedule } from "@/lib/keys";
import { resumeRotation, retireKmsKey, rollBackRotation, startRotation } from "@/lib/keys/rotation";
import {
  keyGrantsSchema,
  registerKeySchema,
  removeKeySchema,
  retireKeySchema,
  rotationActionSchema,
  startRotationSchema,
  retireTenantKeySchema,
  rotateTenantKeySchema,
  rotationScheduleSchema,
  tenantActionSchema,
} from "@/lib/validation/keys";

// The forms only hide what a role cannot do; lib/keys decides, on the server, and audits.

function refresh() {
  revalidatePath("/t/[slug]", "layout");
}

export const registerKeyAction = authedAction(registerKeySchema, async (input, { caller }) => {
  const { tenantId, provider, ...fields } = input;
  const { kmsKeyId } = await registerKmsKey(caller, { tenantId, provider, fields });
  refresh();
  return { ok: true, message: "Key registered. Grant Custody access on your side, then verify.", data: { kmsKeyId } };
});

export const setKeyGrantsAction = authedAction(keyGrantsSchema, async (input, { caller }) => {
  const result = await setKeyGrants(caller, input);
  refresh();
  const n = result.grantIds.length;
  return { ok: true, data: result, message: n === 0 ? "No grants recorded for this key." : `${n} grant${n === 1 ? "" : "s"} recorded: Custody retires ${n === 1 ? "it" : "them"} when you revoke.` };
});

export const removeKeyAction = authedAction(removeKeySchema, async (input, { caller }) => {
  await removeKmsKey(caller, input);
  refresh();
  // The key's page no longer exists: leave it from the server (its re-render would be a 404).
  redirect(`/t/${input.slug}/keys`);
});

export const revokeAccessAction = authedAction(tenantActionSchema, async (input, { caller }) => {
  const result = await revokeAccess(caller, { tenantId: input.tenantId });
  refresh();
  return { ok: true, data: result, message: `Access revoked in ${result.tookMs} ms.` };
});

export const restoreAccessAction = authedAction(tenantActionSchema, async (input, { caller }) => {
  const result = await restoreAccess(caller, { tenantId: input.tenantId });
  refresh();
  return {
    ok: true,
    data: result,
    message: result.restored ? "Access restored after a successful verification." : "The key did not verify, so access stays revoked.",
  };
});

// Rotating the tenant's KMS key (lib/keys/rotation): the work runs in the background, the page polls.

export const startRotationAction = authedAction(startRotationSchema, async (input, { caller }) => {
  const result = await startRotation(caller, { tenantId: input.tenantId, fromKmsKeyId: input.kmsKeyId });
  refresh();
  return { ok: true, data: result, message: "Re-wrapping started." };
});

export const resumeRotationAction = authedAction(rotationActionSchema, async (input, { caller }) => {
  const result = await resumeRotation(caller, input);
  refresh();
  return { ok: true, data: result, message: "Re-wrapping resumed." };
});

export const rollBackRotationAction = authedAction(rotationActionSchema, async (input, { caller }) => {
  const result = await rollBackRotation(caller, input);
  refresh();
  const n = result.restored;
  return { ok: true, data: result, message: `Rolled back: ${n} tenant key${n === 1 ? " is" : "s are"} wrapped by the old key again.` };
});

export const retireKeyAction = authedAction(retireKeySchema, async (input, { caller }) => {
  const result = await retireKmsKey(caller, { tenantId: input.tenantId, kmsKeyId: input.kmsKeyId });
  refresh();
  const done = result.kmsSide.filter((a) => a.done).length;
  const kmsSide =
    result.kmsSide.length === 0
      ? "Nothing to remove on the KMS side: remove Custody's access from the key's policy yourself, or disable the key."
      : `${done} of ${result.kmsSide.length} grant${result.kmsSide.length === 1 ? "" : "s"} retired on the KMS side.`;
  return { ok: true, data: result, message: `Key retired: Custody never uses it again. ${kmsSide}` };
});

export const rotateTenantKeyAction = authedAction(rotateTenantKeySchema, async (input, { caller }) => {
  const result = await rotateTenantKey(caller, input);
  refresh();
  return { ok: true, data: result, message: `Version v${result.version} is now current: new data keys are wrapped under it.` };
});

export const setRotationScheduleAction = authedAction(rotationScheduleSchema, async (input, { caller }) => {
  const result = await setRotationSchedule(caller, input);
  refresh();
  return { ok: true, data: result, message: result.days === null ? "Scheduled rotation is off." : `A new version will be made every ${result.days} days.` };
});

export const retireTenantKeyAction = authedAction(retireTenantKeySchema, async (input, { caller }) => {
  const result = await retireTenantKey(caller, input);
  refresh();
  return { ok: true, data: result, message: `Version v${result.version} is retired: its EDEKs are refused from now on.` };
});
