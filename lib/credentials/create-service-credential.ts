import "server-only";
import { randomUUID } from "node:crypto";
import { AUDIT_ACTIONS } from "@/lib/audit";
import { AppError } from "@/lib/errors";
import { parseInput } from "@/lib/validation/parse";
import { actorOf, type Caller, runAudited, standingOf } from "@/lib/authz";
import { type CreateCredentialInput, createCredentialSchema } from "@/lib/validation/credentials";
import {
  appendEvents,
  countActiveNamed,
  credentialDetails,
  eventsFor,
  lockCredentialName,
  refuse,
  scopesToDb,
  TARGET_TYPE,
} from "./shared";
import { newServiceSecret } from "./token";

export type NewCredential = {
  id: string;
  name: string;
  /** The only time the token exists outside the caller's hands: show it once, never store it. */
  token: string;
};

/**
 * A vendor admin creates a service credential for the vendor's application. Names are unique
 * among active credentials (case-insensitive); a second secret under the same name comes from
 * rotation. Audited in the vendor chain and, when restricted to a tenant, in that tenant's.
 */
export async function createServiceCredential(caller: Caller, input: CreateCredentialInput): Promise<NewCredential> {
  const data = parseInput(createCredentialSchema, input);
  const action = AUDIT_ACTIONS.credentialCreated;
  const id = randomUUID();
  const { token, secretHash } = newServiceSecret(id);

  await runAudited(async (tx) => {
    const standing = await standingOf(tx, caller.userId, null);
    const tenant = data.tenantId
      ? await tx.tenant.findUnique({ where: { id: data.tenantId }, select: { id: true, slug: true } })
      : null;
    const details = credentialDetails({ name: data.name, scopes: data.scopes, tenant });
    if (!standing.isVendorAdmin) {
      throw await refuse(tx, caller, standing, tenant?.id ?? null, action, undefined, { ...details, reason: "not a vendor admin" });
    }
    if (data.tenantId && !tenant) {
      throw new AppError("bad_request", "That tenant does not exist.", { tenantId: ["Choose a tenant from the list."] });
    }
    await lockCredentialName(tx, data.name);
    if ((await countActiveNamed(tx, data.name)) > 0) {
      throw await refuse(
        tx,
        caller,
        standing,
        tenant?.id ?? null,
        action,
        undefined,
        { ...details, reason: "an active credential has this name" },
        new AppError(
          "conflict",
          `An active credential is already named "${data.name}". Rotate it to get a second secret, or choose another name.`,
          { name: ["An active credential already has this name."] },
        ),
      );
    }
    await tx.serviceCredential.create({
      data: {
        id,
        name: data.name,
        scopes: scopesToDb(data.scopes),
        tenantId: tenant?.id ?? null,
        secretHash,
        createdById: caller.userId,
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
          details,
        },
        tenant?.id ?? null,
      ),
    );
  });
  return { id, name: data.name, token };
}
