import type { Metadata } from "next";
import { LocalTime } from "@/components/local-time";
import { PageHeader } from "@/components/page-header";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent } from "@/components/ui/card";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { getConfig } from "@/lib/config";
import { listMembers, type MemberView } from "@/lib/tenants";
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
                <TableHead>Status</TableHead>
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
                  <TableCell className="text-sm text-muted-foreground" data-testid="member-status">
                    <MemberStatus member={member} />
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
                        invited={member.invitation !== null}
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
              description={`They get access by signing in to Custody with SSO as this email address within ${getConfig().INVITATION_DAYS} days. Custody sends no email: tell them yourself.`}
            />
            <AddMemberForm tenantId={tenant.id} />
          </CardContent>
        </Card>
      ) : null}
    </div>
  );
}

/** Added when, or, for an invitation not used yet, what the invitee must do and by when. */
function MemberStatus({ member }: { member: MemberView }) {
  const { invitation } = member;
  if (!invitation) {
    return (
      <>
        Added <LocalTime value={member.addedAt} />
      </>
    );
  }
  if (invitation.expired && invitation.expiresAt) {
    return (
      <span className="text-destructive">
        Invitation expired <LocalTime value={invitation.expiresAt} />. Re-send it to let them in.
      </span>
    );
  }
  return (
    <>
      <Badge variant="outline">invited</Badge>{" "}
      {invitation.expiresAt ? (
        <>
          must sign in with SSO as {member.email} before <LocalTime value={invitation.expiresAt} />
        </>
      ) : (
        <>must sign in with SSO as {member.email}</>
      )}
    </>
  );
}
