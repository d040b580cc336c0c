import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import type { Account } from "./oidc-types";
import { devIdpSubject, normalizeDevIdpEmail, type DevIdpUser } from "./users";

// The dev IdP's account lookup: the configured users with scrypt hashes made at start,
// passwords compared in constant time, accounts found by subject for oidc-provider.

export type DirectoryEntry = { sub: string; email: string; name: string; salt: Buffer; hash: Buffer };

const SCRYPT_KEY_LENGTH = 32;

function scryptHash(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFC"), salt, SCRYPT_KEY_LENGTH, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/**
 * Demo mode's open door: an address Custody has invited (a tenant's new admin, a new member)
 * signs in with the demo password, so a vendor who creates a tenant in the demo can finish the
 * flow as its admin. Configured users keep their own passwords.
 */
export type InvitedAdmission = { password: string; isInvited: (email: string) => Promise<boolean> };

export async function buildDirectory(users: readonly DevIdpUser[], admission?: InvitedAdmission) {
  if (users.length === 0) throw new Error("The dev IdP needs at least one user");
  const byEmail = new Map<string, DirectoryEntry>();
  const bySub = new Map<string, DirectoryEntry>();
  for (const user of users) {
    const email = normalizeDevIdpEmail(user.email);
    if (!email || !user.password) throw new Error("Every dev IdP user needs an email and a password");
    if (byEmail.has(email)) throw new Error(`The dev IdP user ${email} is configured more than once`);
    const salt = randomBytes(16);
    const entry = { sub: devIdpSubject(email), email, name: user.name, salt, hash: await scryptHash(user.password, salt) };
    byEmail.set(email, entry);
    bySub.set(entry.sub, entry);
  }
  // An unknown email costs the same scrypt as a known one.
  const decoySalt = randomBytes(16);
  const decoyHash = await scryptHash(randomBytes(16).toString("hex"), decoySalt);
  const admissionSalt = randomBytes(16);
  const admissionHash = admission ? await scryptHash(admission.password, admissionSalt) : null;

  // An invited address, admitted with the demo password: an account from then on (findAccount).
  async function admitInvited(email: string, password: string): Promise<DirectoryEntry | undefined> {
    if (!admission || !admissionHash || !email) return undefined;
    if (!timingSafeEqual(await scryptHash(password, admissionSalt), admissionHash)) return undefined;
    if (!(await admission.isInvited(email))) return undefined;
    const entry = { sub: devIdpSubject(email), email, name: email.split("@")[0] ?? email, salt: admissionSalt, hash: admissionHash };
    bySub.set(entry.sub, entry);
    return entry;
  }

  return {
    bySub,
    async verify(email: string, password: string): Promise<DirectoryEntry | undefined> {
      const entry = byEmail.get(normalizeDevIdpEmail(email));
      if (!entry && admission) return admitInvited(normalizeDevIdpEmail(email), password);
      const actual = await scryptHash(password, entry?.salt ?? decoySalt);
      const matches = timingSafeEqual(actual, entry?.hash ?? decoyHash);
      return matches && entry ? entry : undefined;
    },
  };
}

export type Directory = Awaited<ReturnType<typeof buildDirectory>>;

/** oidc-provider's findAccount: the claims of a known subject. */
export function findAccount(directory: Directory, sub: string): Account | undefined {
  const entry = directory.bySub.get(sub);
  if (!entry) return undefined;
  return {
    accountId: entry.sub,
    claims: async () => ({ sub: entry.sub, email: entry.email, email_verified: true, name: entry.name }),
  };
}
