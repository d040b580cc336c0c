import * as React from "react";
import Link from "next/link";
import { KeyRoundIcon } from "lucide-react";

import { NavLink } from "@/components/nav-link";
import { type AppShellNavItem, needsExactMatch } from "@/components/nav-match";

export type { AppShellNavItem };

export type AppShellProps = {
  /** Page title, rendered as the page's `<h1>`. */
  title: React.ReactNode;
  /** Shown next to the product name, e.g. the tenant's name or "Vendor". */
  subtitle?: React.ReactNode;
  nav: AppShellNavItem[];
  user: { name: string | null; email: string };
  /** The sign-out control (e.g. a form with a server action), rendered at the right of the top bar. */
  signOut: React.ReactNode;
  /** Where the product name links to (default: the first nav item, else "/"). */
  homeHref?: string;
  /** Extra controls on the title row, right-aligned. */
  actions?: React.ReactNode;
  children: React.ReactNode;
};

/** The console's page frame: top bar (brand, context, user, sign-out), tab navigation, then the page. */
export function AppShell({
  title,
  subtitle,
  nav,
  user,
  signOut,
  homeHref,
  actions,
  children,
}: AppShellProps) {
  const home = homeHref ?? nav[0]?.href ?? "/";
  const displayName = user.name?.trim() || user.email;
  return (
    <div className="flex min-h-dvh flex-col bg-background">
      <a
        href="#main"
        className="sr-only z-50 rounded-md bg-card px-3 py-2 text-sm font-medium shadow focus:not-sr-only focus:fixed focus:top-2 focus:left-2 focus:px-3 focus:py-2"
      >
        Skip to content
      </a>
      <header className="sticky top-0 z-40 border-b border-border bg-card/95 backdrop-blur supports-[backdrop-filter]:bg-card/80">
        <div className="mx-auto flex h-14 max-w-6xl items-center gap-3 px-4 sm:px-6">
          <Link
            href={home}
            className="flex shrink-0 items-center gap-2 rounded-sm font-semibold tracking-tight text-foreground focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring"
          >
            <span className="flex size-7 items-center justify-center rounded-md bg-foreground text-background">
              <KeyRoundIcon className="size-4" aria-hidden="true" />
            </span>
            <span>Custody</span>
          </Link>
          {subtitle ? (
            <>
              <span aria-hidden="true" className="text-lg font-light text-input select-none">
                /
              </span>
              <span className="min-w-0 truncate text-sm font-medium text-foreground">{subtitle}</span>
            </>
          ) : null}
          {/* Never shrunk: the subtitle gives way first, so Sign out stays whole at 390 px. */}
          <div className="ml-auto flex shrink-0 items-center gap-3">
            <div className="hidden min-w-0 flex-col items-end leading-tight sm:flex">
              <span className="max-w-56 truncate text-sm font-medium text-foreground">
                {displayName}
              </span>
              {user.name?.trim() ? (
                <span className="max-w-56 truncate text-xs text-muted-foreground">{user.email}</span>
              ) : null}
            </div>
            <span
              aria-hidden="true"
              className="flex size-8 shrink-0 items-center justify-center rounded-full border border-border bg-muted text-xs font-semibold text-muted-foreground uppercase"
            >
              {initials(displayName)}
            </span>
            <span className="sr-only sm:hidden">Signed in as {displayName}</span>
            {signOut}
          </div>
        </div>
        {nav.length > 0 ? (
          <nav aria-label="Main" className="mx-auto max-w-6xl px-4 sm:px-6">
            <ul className="flex gap-5 overflow-x-auto overflow-y-hidden">
              {nav.map((item) => (
                <li key={item.href}>
                  <NavLink href={item.href} exact={needsExactMatch(item.href, nav)}>
                    {item.label}
                  </NavLink>
                </li>
              ))}
            </ul>
          </nav>
        ) : null}
      </header>
      <main id="main" tabIndex={-1} className="mx-auto w-full max-w-6xl flex-1 px-4 py-8 focus:outline-none sm:px-6">
        <div className="mb-6 flex flex-wrap items-center justify-between gap-3">
          <h1 className="min-w-0 text-2xl font-semibold tracking-tight wrap-anywhere text-foreground">{title}</h1>
          {actions ? <div className="flex items-center gap-2">{actions}</div> : null}
        </div>
        {children}
      </main>
    </div>
  );
}

function initials(text: string): string {
  const words = text.split(/[\s@._-]+/).filter(Boolean);
  const first = words[0]?.[0] ?? "?";
  const second = words.length > 1 ? (words[1]?.[0] ?? "") : "";
  return `${first}${second}`;
}
