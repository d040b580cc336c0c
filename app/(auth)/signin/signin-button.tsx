"use client";

import { signIn } from "next-auth/react";
import { useState } from "react";
import { Button } from "@/components/ui/button";

export function SignInButton({ callbackUrl, providerName }: { callbackUrl: string; providerName: string }) {
  const [pending, setPending] = useState(false);
  return (
    <Button
      className="w-full"
      size="lg"
      disabled={pending}
      onClick={() => {
        setPending(true);
        void signIn("oidc", { callbackUrl });
      }}
    >
      {pending ? "Redirecting…" : `Continue with ${providerName}`}
    </Button>
  );
}
