import { KEY_SERVICE_ACTIONS, type KeyServiceAction, USAGE_CHART_ROLES } from "../catalogue";

// The key service's operations as the usage rollups count them, from the catalogue (a key
// operation is an action with a usage-chart role).
export { KEY_SERVICE_ACTIONS, type KeyServiceAction };

/** Batch calls: their event's `details.items` is the number of data keys they handled. */
export const BATCH_ACTIONS: readonly KeyServiceAction[] = KEY_SERVICE_ACTIONS.filter((a) => USAGE_CHART_ROLES[a].batch);

export function isKeyServiceAction(action: string): action is KeyServiceAction {
  return (KEY_SERVICE_ACTIONS as readonly string[]).includes(action);
}
