import { KeyRoundIcon } from "lucide-react";
import Link from "next/link";
import { Button } from "@/components/ui/button";

// Shown for unknown URLs and for tenants the visitor is not a member of (on purpose the same:
// it must not reveal whether a tenant exists).
export default function NotFound() {
  return (
    <div className="flex min-h-dvh flex-col items-center justify-center bg-background px-4 text-center">
      <span className="mb-6 flex size-10 items-center justify-center rounded-md bg-foreground text-background">
        <KeyRoundIcon className="size-5" aria-hidden="true" />
      </span>
      <h1 className="text-2xl font-semibold tracking-tight">404</h1>
      <p className="mt-2 text-muted-foreground">This page could not be found.</p>
      <p className="mt-1 max-w-md text-sm text-muted-foreground">
        If it belongs to a tenant, you may not be one of its members (any more).
      </p>
      <div className="mt-6 flex gap-2">
        <Button asChild>
          <Link href="/">Go to your start page</Link>
        </Button>
        <Button asChild variant="outline">
          <Link href="/api/auth/signout">Sign out</Link>
        </Button>
      </div>
    </div>
  );
}
