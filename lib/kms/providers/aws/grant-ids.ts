import { AppError } from "@/lib/errors";

/** AWS grant ids: 64 hexadecimal characters (GrantId in create-grant's output). */
const GRANT_ID = /^[0-9a-f]{64}$/;
/** More than enough: Custody asks for one grant per key. */
export const MAX_GRANT_IDS = 10;

/**
 * Parses the grant ids a tenant admin pastes (separated by spaces, commas or new lines) into a
 * de-duplicated list; throws a bad_request AppError naming the first bad one.
 */
export function parseGrantIds(text: string | undefined): string[] {
  const words = (text ?? "").split(/[\s,]+/).filter((word) => word.length > 0);
  const ids: string[] = [];
  for (const word of words) {
    const id = word.toLowerCase();
    if (!GRANT_ID.test(id)) {
      const shown = word.length > 20 ? `${word.slice(0, 20)}…` : word;
      throw new AppError("bad_request", `"${shown}" is not a grant id: a grant id is 64 hexadecimal characters (GrantId in create-grant's output).`, {
        grantIds: ["Not a grant id."],
      });
    }
    if (!ids.includes(id)) ids.push(id);
  }
  if (ids.length > MAX_GRANT_IDS) {
    throw new AppError("bad_request", `At most ${MAX_GRANT_IDS} grant ids per key.`, { grantIds: ["Too many grant ids."] });
  }
  return ids;
}
