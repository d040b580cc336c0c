import type { Metadata } from "next";
import Link from "next/link";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { SignOutButton } from "@/components/sign-out-button";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardFooter, CardHeader, CardTitle } from "@/components/ui/card";
import { getPrincipal, homePathOf } from "@/lib/auth/principal";
import { openRefusedEmail, REFUSED_COOKIE } from "@/lib/auth/refused-sign-in";

export const metadata: Metadata = { title: "No access" };

export default async function NoAccessPage() {
  const principal = await getPrincipal();
  if (principal && homePathOf(principal) !== "/no-access") redirect(homePathOf(principal));
  // Only an email Custody itself vouches for: the session's, or the signed cookie set when the
  // sign-in was refused. Never text taken from the URL.
  const email = principal?.email ?? openRefusedEmail((await cookies()).get(REFUSED_COOKIE)?.value);

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
      <CardContent className="text-sm text-muted-foreground">
        Ask your organisation&apos;s Custody admin to add you, or ask the vendor to invite your organisation. Once
        you have been added, sign in again.
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
