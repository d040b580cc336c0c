import type { Metadata } from "next";
import Link from "next/link";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { SignOutButton } from "@/components/sign-out-button";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardFooter, CardHeader, CardTitle } from "@/components/ui/card";
import { getPrincipal, homePathOf } from "@/lib/auth/principal";
import { LocalTime } from "@/components/local-time";
import { openRefusedEmail, REFUSED_COOKIE } from "@/lib/auth/refused-sign-in";
import { expiredInvitations } from "@/lib/auth/sign-in-events";

export const metadata: Metadata = { title: "No access" };

export default async function NoAccessPage() {
  const principal = await getPrincipal();
  if (principal && homePathOf(principal) !== "/no-access") redirect(homePathOf(principal));
  // Only an email Custody itself vouches for: the session's, or the signed cookie set when the
  // sign-in was refused. Never text taken from the URL.
  const email = principal?.email ?? openRefusedEmail((await cookies()).get(REFUSED_COOKIE)?.value);
  const expired = email ? await expiredInvitations(email) : [];

  return (
    <Card>
      <CardHeader>
        <CardTitle as="h1">You don&apos;t have access to Custody</CardTitle>
        <CardDescription>
          {email ? (
            <>
              Your identity provider signed you in as <strong className="text-foreground">{email}</strong>, but that
              account is not a member of any tenant here.
            </>
          ) : (
            "Your identity provider signed you in, but that account is not a member of any tenant here."
          )}
        </CardDescription>
      </CardHeader>
      <CardContent className="space-y-2 text-sm text-muted-foreground">
        {expired.map((invitation) => (
          <p key={invitation.tenantName} data-testid="expired-invitation" className="text-foreground">
            Your invitation to <strong>{invitation.tenantName}</strong> expired <LocalTime value={invitation.expiredAt} />{" "}
            before you used it. Ask an admin of {invitation.tenantName} (or the vendor) to re-send it, then sign in again.
          </p>
        ))}
        <p>
          Ask your organisation&apos;s Custody admin to add you, or ask the vendor to invite your organisation. Once
          you have been added, sign in again.
        </p>
      </CardContent>
      <CardFooter className="gap-2">
        {principal ? (
          <SignOutButton />
        ) : (
          <Button asChild variant="outline">
            <Link href="/signin">Sign in with a different account</Link>
          </Button>
        )}
      </CardFooter>
    </Card>
  );
}
