"use client";

import * as React from "react";
import Link from "next/link";
import { usePathname } from "next/navigation";

import { isActive } from "@/components/nav-match";
import { cn } from "@/lib/utils/cn";

export type NavLinkProps = {
  href: string;
  children: React.ReactNode;
  /** Only highlight on an exact path match (otherwise sub-paths of `href` count too). */
  exact?: boolean;
  className?: string;
};

/** A top-bar navigation link that marks itself `aria-current="page"` when its route is active. */
export function NavLink({ href, children, exact = false, className }: NavLinkProps) {
  const pathname = usePathname() ?? "";
  const active = isActive(pathname, href, exact);
  return (
    <Link
      href={href}
      aria-current={active ? "page" : undefined}
      data-active={active ? "true" : undefined}
      className={cn(
        "relative inline-flex h-10 items-center px-1 text-sm whitespace-nowrap transition-colors",
        "text-muted-foreground hover:text-foreground",
        "after:absolute after:inset-x-0 after:bottom-0 after:h-0.5 after:rounded-full after:bg-transparent",
        "focus-visible:rounded-sm focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring",
        active && "font-medium text-foreground after:bg-primary",
        className,
      )}
    >
      {children}
    </Link>
  );
}
