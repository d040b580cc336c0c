import type { Page } from "@playwright/test";
import {
  DEMO,
  type User,
  addMember,
  auditRows,
  createTenantAsVendor,
  e2eUser,
  expect,
  memberRow,
  test,
  uniqueSuffix,
} from "./fixtures";

// Several sign-ins through the IdP per test: room for a busy 2-core machine.
test.describe.configure({ timeout: 120_000 });

// Managing a tenant's members: who may change them, and the rules that protect the tenant.
// Each test makes its own tenant through the vendor console.

async function freshTenant(pageAs: (user: User) => Promise<Page>, label: string, adminEmail: string) {
  const suffix = uniqueSuffix();
  const tenant = { name: `${label} ${suffix}`, slug: `${label.toLowerCase()}-${suffix}`, adminEmail };
  await createTenantAsVendor(await pageAs(DEMO.vendor), tenant);
  return tenant;
}

test("an auditor cannot change members: no controls in the page, and the server refuses a replayed action", async ({ pageAs }) => {
  const adminUser = e2eUser("rbac-admin@initech.example");
  const auditorUser = e2eUser("rbac-auditor@initech.example");
  const { slug } = await freshTenant(pageAs, "Initech", adminUser.email);
  // The member whose role the admin's click changes (invited only; they never need to sign in).
  const target = `target-${uniqueSuffix()}@initech.example`;

  const admin = await pageAs(adminUser);
  await addMember(admin, slug, auditorUser.email, "auditor");
  // The auditor signs in (through the IdP) while the admin adds the target.
  const auditorReady = pageAs(auditorUser);
  auditorReady.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
  await addMember(admin, slug, target, "auditor");

  // In the auditor's page: the members, but nothing to change them with.
  const auditor = await auditorReady;
  await auditor.goto(`/t/${slug}/members`);
  await expect(auditor.getByText("You are an auditor: you can see the members but not change them.")).toBeVisible();
  await expect(auditor.getByTestId("member-row")).toHaveCount(3);
  await expect(memberRow(auditor, target).getByTestId("member-role")).toHaveText("auditor");
  await expect(auditor.getByRole("columnheader", { name: "Manage" })).toHaveCount(0);
  await expect(auditor.getByRole("button", { name: /^Make / })).toHaveCount(0);
  await expect(auditor.getByRole("button", { name: /^Remove/ })).toHaveCount(0);
  await expect(auditor.getByRole("heading", { name: "Add a member" })).toHaveCount(0);
  await expect(auditor.getByRole("button", { name: "Add member" })).toHaveCount(0);
  await expect(auditor.getByLabel("Email", { exact: true })).toHaveCount(0);

  // The admin makes the target an admin; capture the server-action request that click sends.
  await admin.goto(`/t/${slug}/members`);
  const sent = admin.waitForRequest((r) => r.method() === "POST" && r.headers()["next-action"] !== undefined);
  await memberRow(admin, target).getByRole("button", { name: `Make ${target} admin` }).click();
  // A role change asks first.
  const confirm = admin.getByRole("dialog", { name: `Make ${target} an admin?` });
  await expect(confirm).toContainText("They will then be able to manage keys");
  await confirm.getByRole("button", { name: "Make admin" }).click();
  const request = await sent;
  await expect(memberRow(admin, target).getByTestId("member-role")).toHaveText("admin");
  const all = await request.allHeaders();
  const headers: Record<string, string> = {};
  for (const name of ["next-action", "next-router-state-tree", "content-type"]) {
    expect(all[name], `the action request's ${name} header`).toBeTruthy();
    headers[name] = all[name]!;
  }
  const body = request.postDataBuffer();
  expect(body, "the action request's body").not.toBeNull();
  const replay = { url: request.url(), headers, data: body! };

  // The admin puts the target back to auditor, so the captured request would change something again.
  await memberRow(admin, target).getByRole("button", { name: `Make ${target} auditor` }).click();
  await admin.getByRole("dialog", { name: `Make ${target} an auditor?` }).getByRole("button", { name: "Make auditor" }).click();
  await expect(memberRow(admin, target).getByTestId("member-role")).toHaveText("auditor");

  // The auditor sends the very same request with their own session: refused.
  const refused = await auditor.context().request.post(replay.url, replay);
  const answer = await refused.text();
  expect(answer).toContain("You don't have permission to do that.");
  expect(answer).not.toContain("Role updated.");

  // Nothing changed, as the admin sees it.
  await admin.reload();
  await expect(memberRow(admin, target).getByTestId("member-role")).toHaveText("auditor");
  await expect(memberRow(admin, auditorUser.email).getByTestId("member-role")).toHaveText("auditor");
  await expect(memberRow(admin, adminUser.email).getByTestId("member-role")).toHaveText("admin");

  // The tenant's trail records the refusal, by the auditor.
  await admin.goto(`/t/${slug}/audit`);
  const denied = auditRows(admin, "member.role_changed", auditorUser.email, "denied");
  await expect(denied).toHaveCount(1);
  await expect(denied).toContainText("role auditor may not do this");
  // The admin's two real changes are there too, as successes.
  await expect(auditRows(admin, "member.role_changed", adminUser.email, "success")).toHaveCount(2);

  // Control: the same replay with the admin's session does change the role, so the refusal above
  // was the server's decision about the auditor, not a malformed replay.
  const accepted = await admin.context().request.post(replay.url, replay);
  expect(accepted.ok()).toBe(true);
  await admin.goto(`/t/${slug}/members`);
  await expect(memberRow(admin, target).getByTestId("member-role")).toHaveText("admin");
});

test("the only admin cannot make themselves an auditor, nor remove themselves", async ({ pageAs }) => {
  const soloAdmin = e2eUser("solo-admin@umbrella.example");
  const { name, slug } = await freshTenant(pageAs, "Umbrella", soloAdmin.email);

  const admin = await pageAs(soloAdmin);
  await admin.goto(`/t/${slug}/members`);
  await expect(admin.getByTestId("member-row")).toHaveCount(1);
  const own = memberRow(admin, soloAdmin.email);
  await expect(own.getByText("you", { exact: true })).toBeVisible();
  await expect(own.getByTestId("member-role")).toHaveText("admin");

  await own.getByRole("button", { name: `Make ${soloAdmin.email} auditor` }).click();
  // Cancelled, nothing is sent; confirmed, the server refuses.
  const self = admin.getByRole("dialog", { name: "Make yourself an auditor?" });
  await expect(self).toContainText(`You will then be able to read the trail`);
  await self.getByRole("button", { name: "Cancel" }).click();
  await expect(self).toBeHidden();
  await expect(own.getByRole("alert")).toHaveCount(0);
  await own.getByRole("button", { name: `Make ${soloAdmin.email} auditor` }).click();
  await self.getByRole("button", { name: "Make auditor" }).click();
  await expect(
    own.getByText(`${soloAdmin.email} is the last admin of this tenant. Make someone else an admin first.`),
  ).toBeVisible();
  await expect(own.getByTestId("member-role")).toHaveText("admin");

  await admin.reload();
  await expect(memberRow(admin, soloAdmin.email).getByTestId("member-role")).toHaveText("admin");
  await expect(admin.getByText(`${name} · Tenant admin`)).toBeVisible();

  // Nor leave: the same message, and they are still there. Their own row speaks to them.
  await own.getByRole("button", { name: `Leave ${name}` }).click();
  const dialog = admin.getByRole("dialog", { name: `Leave ${name}?` });
  await expect(dialog).toContainText(`You will lose access to ${name} at once`);
  await dialog.getByRole("button", { name: `Leave ${name}` }).click();
  await expect(dialog).toBeHidden();
  await expect(
    own.getByText(`${soloAdmin.email} is the last admin of this tenant. Make someone else an admin first.`),
  ).toBeVisible();
  await admin.reload();
  await expect(admin.getByTestId("member-row")).toHaveCount(1);
  await expect(memberRow(admin, soloAdmin.email).getByTestId("member-role")).toHaveText("admin");
  // Still an admin: the add-member form is still theirs.
  await expect(admin.getByRole("button", { name: "Add member" })).toBeVisible();
});

test("removing a member through the dialog removes them and records it", async ({ pageAs }) => {
  const removerAdmin = e2eUser("remover-admin@hooli.example");
  const { slug } = await freshTenant(pageAs, "Hooli", removerAdmin.email);
  const leaving = `leaving-${uniqueSuffix()}@hooli.example`;
  const staying = `staying-${uniqueSuffix()}@hooli.example`;

  const admin = await pageAs(removerAdmin);
  await addMember(admin, slug, leaving, "auditor");
  await addMember(admin, slug, staying, "auditor");
  await expect(admin.getByTestId("member-row")).toHaveCount(3);
  // A member who has signed in (the demo IdP admits invited addresses with the demo password).
  await (await pageAs({ email: leaving, password: DEMO.vendor.password })).goto(`/t/${slug}`);
  await admin.reload();
  await expect(memberRow(admin, leaving).getByTestId("member-status")).toContainText("Added");

  // Cancel first: nothing happens.
  await memberRow(admin, leaving).getByRole("button", { name: `Remove ${leaving}` }).click();
  let dialog = admin.getByRole("dialog", { name: `Remove ${leaving}?` });
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  await expect(memberRow(admin, leaving)).toBeVisible();

  // Confirm: the row goes, and stays gone.
  await memberRow(admin, leaving).getByRole("button", { name: `Remove ${leaving}` }).click();
  dialog = admin.getByRole("dialog", { name: `Remove ${leaving}?` });
  await expect(dialog).toContainText("They lose access to");
  await dialog.getByRole("button", { name: "Remove member" }).click();
  await expect(dialog).toBeHidden();
  await expect(memberRow(admin, leaving)).toHaveCount(0);
  await expect(memberRow(admin, staying)).toBeVisible();
  await expect(admin.getByTestId("member-row")).toHaveCount(2);
  await admin.reload();
  await expect(memberRow(admin, leaving)).toHaveCount(0);
  await expect(admin.getByTestId("member-row")).toHaveCount(2);

  await admin.goto(`/t/${slug}/audit`);
  const removed = auditRows(admin, "member.removed", removerAdmin.email);
  await expect(removed).toHaveCount(1);
  await expect(removed).toContainText(`email: ${leaving}`);
  await expect(removed).toContainText("success");
  await expect(auditRows(admin, "member.removed", staying)).toHaveCount(0);
});

test("an invitation says what the invitee must do and by when, can be re-sent, and can be revoked", async ({ pageAs }) => {
  const inviterAdmin = e2eUser("inviter-admin@hooli.example");
  const { slug } = await freshTenant(pageAs, "Hooli", inviterAdmin.email);
  const invitee = `invitee-${uniqueSuffix()}@hooli.example`;

  const admin = await pageAs(inviterAdmin);
  await addMember(admin, slug, invitee, "auditor");
  await expect(admin.getByText(`Ask them to sign in to Custody with SSO as ${invitee} within 7 days`)).toBeVisible();
  const status = memberRow(admin, invitee).getByTestId("member-status");
  await expect(status).toContainText("invited");
  await expect(status).toContainText(`must sign in with SSO as ${invitee} before`);

  await memberRow(admin, invitee).getByRole("button", { name: `Re-send the invitation to ${invitee}` }).click();
  await expect(memberRow(admin, invitee).getByRole("status")).toHaveText("Invitation re-sent: it can be used for 7 more days.");

  await memberRow(admin, invitee).getByRole("button", { name: `Revoke the invitation to ${invitee}` }).click();
  const dialog = admin.getByRole("dialog", { name: `Revoke the invitation to ${invitee}?` });
  await dialog.getByRole("button", { name: "Revoke invitation" }).click();
  await expect(memberRow(admin, invitee)).toHaveCount(0);

  await admin.goto(`/t/${slug}/audit`);
  await expect(auditRows(admin, "member.invitation_resent", invitee)).toHaveCount(1);
  await expect(auditRows(admin, "member.invitation_revoked", invitee)).toHaveCount(1);
});
