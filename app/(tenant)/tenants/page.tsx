import type { Metadata } from "next";
import Link from "next/link";
import { redirect } from "next/navigation";
import { AppShell } from "@/components/app-shell";
import { SignOutButton } from "@/components/sign-out-button";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent } from "@/components/ui/card";
import { requirePrincipal } from "@/lib/auth/principal";

export const metadata: Metadata = { title: "Choose a tenant" };

export default async function ChooseTenantPage() {
  const principal = await requirePrincipal();
  if (principal.tenants.length === 0) redirect("/");
  return (
    <AppShell title="Choose a tenant" nav={[]} user={{ name: principal.name, email: principal.email }} signOut={<SignOutButton />}>
      <Card>
        <CardContent className="divide-y divide-border p-0">
          {principal.tenants.map((t) => (
            <Link key={t.tenantId} href={`/t/${t.slug}`} className="flex items-center justify-between px-6 py-4 hover:bg-muted">
              <span className="font-medium">{t.name}</span>
              <Badge variant={t.role === "admin" ? "default" : "secondary"}>{t.role}</Badge>
            </Link>
          ))}
        </CardContent>
      </Card>
    </AppShell>
  );
}
