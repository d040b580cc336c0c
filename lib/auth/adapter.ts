import "server-only";
import { PrismaAdapter } from "@next-auth/prisma-adapter";
import type { Adapter, AdapterAccount, AdapterUser } from "next-auth/adapters";
import { getDb } from "@/lib/db";
import { hashSessionToken } from "@/lib/db/session-token";

type PrismaAdapterClient = Parameters<typeof PrismaAdapter>[0];

// next-auth's Prisma adapter, with three Custody rules on top: emails are stored lower-cased
// (invites match sign-ins whatever the IdP's casing); the IdP's tokens are not kept, because
// Custody never calls the IdP's APIs and a stored token is only a liability; and session
// tokens are stored hashed (lib/db/session-token.ts). next-auth sees the cookie's value
// throughout: each session handed back carries the token it was asked about.
// The client is created on first use, not at import, so `next build` needs no database.
export function custodyAdapter(): Adapter {
  let inner: Adapter | undefined;
  const prisma = (): Adapter => (inner ??= PrismaAdapter(getDb() as unknown as PrismaAdapterClient));

  return {
    createUser: (user: Omit<AdapterUser, "id">) => prisma().createUser!({ ...user, email: user.email.toLowerCase() }),
    getUser: (id) => prisma().getUser!(id),
    getUserByEmail: (email) => prisma().getUserByEmail!(email.toLowerCase()),
    getUserByAccount: (account) => prisma().getUserByAccount!(account),
    updateUser: (user) => prisma().updateUser!({ ...user, email: user.email?.toLowerCase() }),
    linkAccount: (account: AdapterAccount) => {
      const { access_token: _a, refresh_token: _r, id_token: _i, ...kept } = account;
      return prisma().linkAccount!(kept as AdapterAccount);
    },
    createSession: async (session) => {
      const created = await prisma().createSession!({ ...session, sessionToken: hashSessionToken(session.sessionToken) });
      return { ...created, sessionToken: session.sessionToken };
    },
    getSessionAndUser: async (sessionToken) => {
      const found = await prisma().getSessionAndUser!(hashSessionToken(sessionToken));
      return found && { ...found, session: { ...found.session, sessionToken } };
    },
    updateSession: async (session) => {
      const updated = await prisma().updateSession!({ ...session, sessionToken: hashSessionToken(session.sessionToken) });
      return updated && { ...updated, sessionToken: session.sessionToken };
    },
    deleteSession: async (sessionToken) => {
      await prisma().deleteSession!(hashSessionToken(sessionToken));
    },
  };
}
