// Which navigation item a path belongs to. Plain functions (no "use client"), so the server's
// AppShell and the client's NavLink and CurrentSection share them.

export type AppShellNavItem = { href: string; label: string };

/** Hrefs that are a path prefix of another item's href are matched exactly, so only one link lights up. */
export function needsExactMatch(href: string, all: AppShellNavItem[]): boolean {
  const base = href.replace(/\/+$/, "");
  return all.some((other) => other.href !== href && other.href.startsWith(`${base}/`));
}

export function isActive(pathname: string, href: string, exact: boolean): boolean {
  const path = href.split(/[?#]/)[0] ?? href;
  const target = path.length > 1 ? path.replace(/\/+$/, "") : path;
  if (pathname === target) return true;
  if (exact || target === "/") return false;
  return pathname.startsWith(`${target}/`);
}
