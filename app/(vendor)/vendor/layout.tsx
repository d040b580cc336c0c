import { AppShell } from "@/components/app-shell";
import { CurrentSection } from "@/components/current-section";
import { SignOutButton } from "@/components/sign-out-button";
import { requireVendorAdmin } from "@/lib/auth/principal";

export default async function VendorLayout({ children }: { children: React.ReactNode }) {
  const principal = await requireVendorAdmin();
  const nav = [
    { href: "/vendor", label: "Tenants" },
    { href: "/vendor/credentials", label: "Service credentials" },
    { href: "/vendor/kms", label: "KMS set-up" },
    { href: "/vendor/aws", label: "AWS role" },
    { href: "/vendor/audit", label: "Audit trail" },
    { href: "/vendor/usage", label: "Usage" },
    ...(principal.tenants.length > 0 ? [{ href: "/tenants", label: "My tenants" }] : []),
  ];
  return (
    <AppShell
      title={<CurrentSection nav={nav} fallback="Vendor" />}
      subtitle="Vendor"
      homeHref="/vendor"
      nav={nav}
      user={{ name: principal.name, email: principal.email }}
      signOut={<SignOutButton />}
    >
      {children}
    </AppShell>
  );
}
