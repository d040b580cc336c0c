import { AppShell } from "@/components/app-shell";
import { SignOutButton } from "@/components/sign-out-button";
import { loadTenantContext } from "./tenant-context";

export default async function TenantLayout({
  children,
  params,
}: {
  children: React.ReactNode;
  params: Promise<{ slug: string }>;
}) {
  const { slug } = await params;
  const { principal, tenant } = await loadTenantContext(slug);
  const base = `/t/${tenant.slug}`;
  return (
    <AppShell
      title={tenant.name}
      subtitle={`${tenant.name} · ${tenant.role === "admin" ? "Tenant admin" : "Tenant auditor"}`}
      homeHref={base}
      nav={[
        { href: base, label: "Overview" },
        { href: `${base}/keys`, label: "Keys" },
        { href: `${base}/members`, label: "Members" },
        { href: `${base}/audit`, label: "Audit trail" },
        { href: `${base}/sinks`, label: "Log sinks" },
        { href: `${base}/usage`, label: "Usage" },
        ...(principal.tenants.length > 1 ? [{ href: "/tenants", label: "Switch tenant" }] : []),
      ]}
      user={{ name: principal.name, email: principal.email }}
      signOut={<SignOutButton />}
    >
      {children}
    </AppShell>
  );
}
