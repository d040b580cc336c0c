"use client";

import { KeyRoundIcon } from "lucide-react";
import { useEffect, useRef, useState } from "react";
import { Button } from "@/components/ui/button";

// A page that failed to render. The usual cause worth naming is the database being away (a
// restart or failover): the readiness endpoint says so, and while it does this page waits and
// retries by itself. Anything else gets the generic apology; the details are in the server log.
export default function ErrorPage({ reset }: { error: Error & { digest?: string }; reset: () => void }) {
  const [databaseDown, setDatabaseDown] = useState(false);
  const wasDown = useRef(false);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const check = async () => {
      const ready = await fetch("/api/health/ready", { cache: "no-store" }).then((r) => r.ok, () => false);
      if (stopped) return;
      if (ready) {
        // Back (or never away): retry the page by itself if it was the database.
        setDatabaseDown(false);
        if (wasDown.current) reset();
        return;
      }
      wasDown.current = true;
      setDatabaseDown(true);
      timer = setTimeout(check, 2_000);
    };
    void check();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [reset]);

  return (
    <div role="alert" className="flex min-h-[60dvh] flex-col items-center justify-center px-4 text-center">
      <span className="mb-6 flex size-10 items-center justify-center rounded-md bg-foreground text-background">
        <KeyRoundIcon className="size-5" aria-hidden="true" />
      </span>
      <h1 className="text-2xl font-semibold tracking-tight">{databaseDown ? "Custody cannot reach its database" : "Something went wrong"}</h1>
      <p className="mt-2 max-w-md text-muted-foreground">
        {databaseDown
          ? "Nothing is lost. This page tries again by itself as soon as the database is back."
          : "It has been logged. Try again; if it keeps happening, tell your Custody operator."}
      </p>
      <div className="mt-6">
        <Button onClick={reset}>Try again</Button>
      </div>
    </div>
  );
}
