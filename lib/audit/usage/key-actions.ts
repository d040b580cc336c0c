import { AUDIT_ACTIONS } from "../actions";

/** The key service's operations: what the usage charts call "key operations". */
export const KEY_SERVICE_ACTIONS = [
  AUDIT_ACTIONS.keyWrap,
  AUDIT_ACTIONS.keyUnwrap,
  AUDIT_ACTIONS.keyBatchWrap,
  AUDIT_ACTIONS.keyBatchUnwrap,
  AUDIT_ACTIONS.keyRekey,
] as const;

export type KeyServiceAction = (typeof KEY_SERVICE_ACTIONS)[number];

/** Batch calls: their event's `details.items` is the number of data keys they handled. */
export const BATCH_ACTIONS = [AUDIT_ACTIONS.keyBatchWrap, AUDIT_ACTIONS.keyBatchUnwrap] as const;

export function isKeyServiceAction(action: string): action is KeyServiceAction {
  return (KEY_SERVICE_ACTIONS as readonly string[]).includes(action);
}
