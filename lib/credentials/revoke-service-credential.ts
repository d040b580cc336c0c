import "server-only";
import { AUDIT_ACTIONS } from "@/lib/audit";
import { AppError } from "@/lib/errors";
import { parseInput } from "@/lib/validation/parse";
import { actorOf, type Caller, runAudited } from "@/lib/authz";
import { type CredentialActionInput, credentialActionSchema } from "@/lib/validation/credentials";
import { announceCredentialChange } from "./channel";
import { lockCredentialForChange } from "./find-credential";
import { appendEvents, credentialDetails, eventsFor, refuse } from "./shared";

/**
 * Revokes a credential at once: revoked_at is set and the revocation announced (NOTIFY on
 * commit), so every key-service instance drops it from its cache and refuses it from then on.
 * There is no un-revoke; create or rotate another credential instead.
 */
export async function revokeServiceCredential(caller: Caller, input: CredentialActionInput): Promise<{ id: string; name: string; revokedAt: Date }> {
  const { credentialId } = parseInput(credentialActionSchema, input);
  const action = AUDIT_ACTIONS.credentialRevoked;

  return runAudited(async (tx) => {
    const { standing, current, target } = await lockCredentialForChange(tx, caller, credentialId, action, { lockName: false });
    const details = credentialDetails(current);
    if (current.revokedAt) {
      throw await refuse(tx, caller, standing, current.tenant?.id ?? null, action, target, { ...details, reason: "already revoked" },
        new AppError("conflict", `"${current.name}" is already revoked (since ${current.revokedAt.toISOString()}).`));
    }
    const revokedAt = new Date();
    await tx.serviceCredential.update({ where: { id: credentialId }, data: { revokedAt, revokedById: caller.userId } });
    await appendEvents(
      tx,
      eventsFor(
        { actor: actorOf(caller, standing), action, target, outcome: "success", request: caller.request, details },
        current.tenant?.id ?? null,
      ),
    );
    await announceCredentialChange(tx, credentialId);
    return { id: credentialId, name: current.name, revokedAt };
  });
}
