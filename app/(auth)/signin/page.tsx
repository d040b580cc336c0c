import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { CANCELLED_SIGN_IN } from "@/lib/auth/cancelled-sign-in";
import { getConfig } from "@/lib/config";
import { getPrincipal, homePathOf } from "@/lib/auth/principal";
import { SignInButton } from "./signin-button";

export const metadata: Metadata = { title: "Sign in" };

// next-auth's error codes, in words a person can act on.
const ERRORS: Record<string, string> = {
  NoEmail: "Your identity provider did not share an email address, which Custody needs to recognise you.",
  EmailNotVerified: "Your identity provider did not confirm that your email address is verified.",
  OAuthCallback: "The sign-in did not complete. Please try again.",
  OAuthSignin: "Could not reach the identity provider. Please try again in a moment.",
  Callback: "The sign-in did not complete. Please try again.",
  OAuthAccountNotLinked: "This email is already linked to another sign-in.",
  SessionRequired: "Please sign in to continue.",
  AccessDenied: "You do not have access to Custody.",
  Default: "Sign-in failed. Please try again.",
};

/**
 * Where to go after sign-in: a path on Custody itself (next-auth hands back absolute URLs of
 * Custody's own origin after a failed attempt); anything else, such as another host, `/\\host`,
 * a path that normalises to `//host`, or control characters, becomes "/".
 */
function safeCallback(value: string | undefined): string {
  if (!value || /[\\\u0000-\u001f\u007f]/.test(value)) return "/";
  const own = new URL(getConfig().NEXTAUTH_URL ?? "http://custody.invalid").origin;
  let url: URL;
  try {
    url = new URL(value, own);
  } catch {
    return "/";
  }
  if (url.origin !== own) return "/";
  // `/.//evil.example` resolves to the path `//evil.example`, which a browser reads as another host.
  const path = `${url.pathname}${url.search}${url.hash}`;
  return path.startsWith("//") ? "/" : path;
}

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<{ callbackUrl?: string; error?: string; signedOut?: string }>;
}) {
  const params = await searchParams;
  const principal = await getPrincipal();
  if (principal) redirect(params.callbackUrl ? safeCallback(params.callbackUrl) : homePathOf(principal));
  const cancelled = params.error === CANCELLED_SIGN_IN;
  // Own keys only: `?error=__proto__` must not reach the page as an object.
  const error = params.error && !cancelled ? (Object.hasOwn(ERRORS, params.error) ? ERRORS[params.error]! : ERRORS.Default) : null;
  const providerName = getConfig().OIDC_NAME;

  return (
    <Card>
      <CardHeader>
        <CardTitle as="h1">Sign in to Custody</CardTitle>
        <CardDescription>Use your organisation&apos;s single sign-on.</CardDescription>
      </CardHeader>
      <CardContent className="space-y-4">
        {error ? (
          <Alert variant="destructive">
            <AlertTitle>Could not sign you in</AlertTitle>
            <AlertDescription>{error}</AlertDescription>
          </Alert>
        ) : null}
        {cancelled ? (
          <Alert>
            <AlertTitle>Sign-in cancelled</AlertTitle>
            <AlertDescription>You cancelled at the identity provider. Continue when you are ready.</AlertDescription>
          </Alert>
        ) : null}
        {params.signedOut ? (
          <Alert variant="success">
            <AlertDescription>You have signed out.</AlertDescription>
          </Alert>
        ) : null}
        <SignInButton callbackUrl={safeCallback(params.callbackUrl)} providerName={providerName} />
      </CardContent>
    </Card>
  );
}
