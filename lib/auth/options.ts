import "server-only";
import type { NextAuthOptions } from "next-auth";
import { cookies, headers } from "next/headers";
import { type Config, getConfig } from "@/lib/config";
import { requestMetaFromHeaders } from "@/lib/http/request-meta";
import { log, errorFields } from "@/lib/log";
import { normalizeEmail } from "@/lib/validation/email";
import { custodyAdapter } from "./adapter";
import { REFUSED_COOKIE, REFUSED_MAX_AGE_SECONDS, sealRefusedEmail } from "./refused-sign-in";
import { hasAnyAccess, recordSignIn, recordSignInRefused, recordSignOut } from "./sign-in-events";

export const OIDC_PROVIDER_ID = "oidc";
const SESSION_MAX_AGE_SECONDS = 8 * 60 * 60;

type OidcProfile = { sub: string; email?: string; email_verified?: unknown; name?: string };

async function requestMeta() {
  return requestMetaFromHeaders(await headers());
}

/**
 * next-auth with one generic OpenID Connect provider from the environment (the start script
 * points it at the development IdP in demo mode). Sessions live in the database, so signing
 * out ends them on the server. Who may do what is Custody's business, not the IdP's: a person
 * with no membership and no vendor-admin right is sent to /no-access and gets no session.
 */
export function buildAuthOptions(env: Config = getConfig()): NextAuthOptions {
  const issuer = env.OIDC_ISSUER ?? "";
  return {
    secret: env.NEXTAUTH_SECRET,
    adapter: custodyAdapter(),
    session: { strategy: "database", maxAge: SESSION_MAX_AGE_SECONDS, updateAge: 15 * 60 },
    pages: { signIn: "/signin", error: "/signin" },
    providers: [
      {
        id: OIDC_PROVIDER_ID,
        name: env.OIDC_NAME,
        type: "oauth",
        wellKnown: `${issuer}/.well-known/openid-configuration`,
        clientId: env.OIDC_CLIENT_ID,
        clientSecret: env.OIDC_CLIENT_SECRET,
        authorization: {
          params: { scope: "openid email profile", ...(env.OIDC_PROMPT ? { prompt: env.OIDC_PROMPT } : {}) },
        },
        idToken: true,
        checks: ["pkce", "state"],
        // An invited person's user row exists before their first sign-in; the IdP's verified
        // email is what links the two (the signIn callback refuses an email unless the IdP asserts email_verified: true).
        allowDangerousEmailAccountLinking: true,
        profile(profile: OidcProfile) {
          return { id: profile.sub, email: normalizeEmail(profile.email ?? ""), name: profile.name ?? null, image: null };
        },
      },
    ],
    callbacks: {
      async signIn({ profile }) {
        const claims = profile as OidcProfile | undefined;
        const email = claims?.email ? normalizeEmail(claims.email) : "";
        const meta = await requestMeta();
        if (!email) {
          await recordSignInRefused(null, meta, "identity provider sent no email");
          return "/signin?error=NoEmail";
        }
        // Only an explicit `true` counts: an IdP that does not assert verification must not
        // let whoever holds a matching address take an invited membership (account linking).
        if (claims?.email_verified !== true) {
          await recordSignInRefused(email, meta, "email not verified at the identity provider");
          return "/signin?error=EmailNotVerified";
        }
        if (!(await hasAnyAccess(email))) {
          await recordSignInRefused(email, meta, "no membership or vendor-admin right");
          (await cookies()).set(REFUSED_COOKIE, sealRefusedEmail(email), {
            httpOnly: true,
            sameSite: "lax",
            path: "/no-access",
            maxAge: REFUSED_MAX_AGE_SECONDS,
            secure: (env.NEXTAUTH_URL ?? "").startsWith("https://"),
          });
          return "/no-access";
        }
        return true;
      },
      async session({ session, user }) {
        return { ...session, user: { ...session.user, id: user.id } };
      },
      async redirect({ url, baseUrl }) {
        // Only ever back into Custody.
        if (url.startsWith("/")) return `${baseUrl}${url}`;
        if (new URL(url).origin === baseUrl) return url;
        return baseUrl;
      },
    },
    events: {
      async signIn({ user }) {
        await recordSignIn(user.id, await requestMeta());
      },
      async signOut({ session }) {
        const userId = (session as { userId?: string } | null)?.userId;
        if (userId) await recordSignOut(userId, await requestMeta());
      },
    },
    logger: {
      error(code, metadata) {
        log.error({ code, ...(metadata instanceof Error ? errorFields(metadata) : {}) }, "auth error");
      },
      warn(code) {
        log.warn({ code }, "auth warning");
      },
      debug() {},
    },
  };
}

export const authOptions = buildAuthOptions();
