"use client";

import { usePathname } from "next/navigation";
import { type AppShellNavItem, isActive, needsExactMatch } from "@/components/nav-match";

/** The label of the navigation item the current page belongs to (the page's heading), else `fallback`. */
export function CurrentSection({ nav, fallback }: { nav: AppShellNavItem[]; fallback: string }) {
  const pathname = usePathname() ?? "";
  return nav.find((item) => isActive(pathname, item.href, needsExactMatch(item.href, nav)))?.label ?? fallback;
}
