import "server-only";
import { randomUUID } from "node:crypto";
import { AUDIT_ACTIONS } from "@/lib/audit";
import { AppError } from "@/lib/errors";
import { parseInput } from "@/lib/validation/parse";
import { actorOf, type Caller, runAudited } from "@/lib/authz";
import { type CredentialActionInput, credentialActionSchema } from "@/lib/validation/credentials";
import { announceCredentialChange } from "./channel";
import type { NewCredential } from "./create-service-credential";
import { lockCredentialForChange } from "./find-credential";
import {
  appendEvents,
  countActiveNamed,
  credentialDetails,
  eventsFor,
  MAX_ACTIVE_PER_NAME,
  refuse,
  scopesToDb,
  TARGET_TYPE,
} from "./shared";
import { newServiceSecret } from "./token";

/**
 * Rotation: a successor with the same name, scopes and tenant and a new secret. The old
 * credential stays active, so the application can switch over without downtime; revoke it
 * afterwards. At most two credentials of one name are active, so a third is refused.
 */
export async function rotateServiceCredential(caller: Caller, input: CredentialActionInput): Promise<NewCredential & { rotatedFromId: string }> {
  const { credentialId } = parseInput(credentialActionSchema, input);
  const action = AUDIT_ACTIONS.credentialRotated;
  const id = randomUUID();
  const { token, secretHash } = newServiceSecret(id);

  const name = await runAudited(async (tx) => {
    const { standing, current, target } = await lockCredentialForChange(tx, caller, credentialId, action, { lockName: true });
    const details = credentialDetails(current);
    if (current.revokedAt) {
      throw await refuse(tx, caller, standing, current.tenant?.id ?? null, action, target, { ...details, reason: "revoked" },
        new AppError("conflict", `"${current.name}" is revoked and cannot be rotated. Create a new credential instead.`));
    }
    if ((await countActiveNamed(tx, current.name)) >= MAX_ACTIVE_PER_NAME) {
      throw await refuse(tx, caller, standing, current.tenant?.id ?? null, action, target, { ...details, reason: "two credentials of this name are active" },
        new AppError(
          "conflict",
          `Two credentials named "${current.name}" are already active. Revoke the one your application no longer uses, then rotate again.`,
        ));
    }

    await tx.serviceCredential.create({
      data: {
        id,
        name: current.name,
        scopes: scopesToDb(current.scopes),
        tenantId: current.tenant?.id ?? null,
        secretHash,
        createdById: caller.userId,
        rotatedFromId: current.id,
      },
    });
    await appendEvents(
      tx,
      eventsFor(
        {
          actor: actorOf(caller, standing),
          action,
          target: { type: TARGET_TYPE, id },
          outcome: "success",
          request: caller.request,
          details: { ...details, rotatedFromId: current.id },
        },
        current.tenant?.id ?? null,
      ),
    );
    await announceCredentialChange(tx, current.id);
    return current.name;
  });
  return { id, name, token, rotatedFromId: credentialId };
}
