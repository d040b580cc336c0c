"use client";

import { useRouter } from "next/navigation";
import { useEffect, useRef } from "react";

/** How often the open Tenants page asks whether the fleet changed: a revocation shows within a second. */
export const FLEET_POLL_MS = 500;

/**
 * Keeps the fleet table live: polls the fleet's stamp (`/vendor/tenants/stamp`, one cheap
 * query) while the tab is visible and re-renders the page, in place, when it changed since the
 * page was rendered. Renders a quiet "live" note.
 */
export function FleetLiveRefresh({ stamp }: { stamp: string }) {
  const router = useRouter();
  const seen = useRef(stamp);
  useEffect(() => {
    seen.current = stamp;
  }, [stamp]);
  useEffect(() => {
    let stopped = false;
    let inFlight = false;
    const poll = async () => {
      if (stopped || inFlight || document.visibilityState !== "visible") return;
      inFlight = true;
      try {
        const response = await fetch("/vendor/tenants/stamp", { cache: "no-store" });
        if (!response.ok) return;
        const body = (await response.json()) as { stamp?: unknown };
        if (typeof body.stamp === "string" && body.stamp !== seen.current) {
          seen.current = body.stamp;
          router.refresh();
        }
      } catch {
        // Offline or the server restarting: the next poll tries again.
      } finally {
        inFlight = false;
      }
    };
    const timer = window.setInterval(() => void poll(), FLEET_POLL_MS);
    return () => {
      stopped = true;
      window.clearInterval(timer);
    };
  }, [router]);
  return (
    <p className="text-xs text-muted-foreground" data-testid="fleet-live">
      Live: the table updates as tenants change.
    </p>
  );
}
