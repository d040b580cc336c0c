import type { Metadata } from "next";
import { LocalTime } from "@/components/local-time";
import { PageHeader } from "@/components/page-header";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent } from "@/components/ui/card";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { listMembers } from "@/lib/tenants";
import { loadTenantContext } from "../tenant-context";
import { AddMemberForm } from "./_components/add-member-form";
import { MemberActions } from "./_components/member-actions";

export const metadata: Metadata = { title: "Members" };

export default async function MembersPage({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const { caller, tenant, principal } = await loadTenantContext(slug);
  const members = await listMembers(caller, tenant.id);
  const isAdmin = tenant.role === "admin";

  return (
    <div className="space-y-6">
      <Card>
        <CardContent className="pt-6">
          <PageHeader
            title="Members"
            description={
              isAdmin
                ? "Admins manage the tenant's keys, its vendor access and its members. Auditors can read everything and change nothing."
                : "You are an auditor: you can see the members but not change them."
            }
          />
          <Table>
            <TableHeader>
              <TableRow>
                <TableHead>Member</TableHead>
                <TableHead>Role</TableHead>
                <TableHead>Added</TableHead>
                {isAdmin ? <TableHead className="text-right">Manage</TableHead> : null}
              </TableRow>
            </TableHeader>
            <TableBody>
              {members.map((member) => (
                <TableRow key={member.id} data-testid="member-row" data-email={member.email}>
                  <TableCell>
                    <div className="font-medium">{member.name ?? member.email}</div>
                    {member.name ? <div className="text-xs text-muted-foreground">{member.email}</div> : null}
                    {member.userId === principal.userId ? <Badge variant="outline">you</Badge> : null}
                  </TableCell>
                  <TableCell>
                    <Badge variant={member.role === "admin" ? "default" : "secondary"} data-testid="member-role">
                      {member.role}
                    </Badge>
                  </TableCell>
                  <TableCell className="text-sm text-muted-foreground">
                    <LocalTime value={member.addedAt} />
                  </TableCell>
                  {isAdmin ? (
                    <TableCell className="text-right">
                      <MemberActions
                        tenantId={tenant.id}
                        tenantName={tenant.name}
                        membershipId={member.id}
                        email={member.email}
                        role={member.role}
                        isSelf={member.userId === principal.userId}
                      />
                    </TableCell>
                  ) : null}
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </CardContent>
      </Card>
      {isAdmin ? (
        <Card>
          <CardContent className="pt-6">
            <PageHeader
              title="Add a member"
              description="They get access the first time they sign in with SSO using this email address."
            />
            <AddMemberForm tenantId={tenant.id} />
          </CardContent>
        </Card>
      ) : null}
    </div>
  );
}
