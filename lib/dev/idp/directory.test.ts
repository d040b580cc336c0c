import { describe, expect, it } from "vitest";
import { buildDirectory, findAccount } from "./directory";

// Demo mode's admission: an address Custody has invited signs in with the demo password;
// nobody else does, and configured users keep their own passwords.

const users = [{ email: "vendor@custody.example", password: "vendor-own-password", name: "Vendor" }];
const invited = new Set(["new-admin@globex.example"]);
const admission = { password: "demo-password", isInvited: async (email: string) => invited.has(email) };

describe("the dev IdP's directory", () => {
  it("admits an invited address with the demo password, as an account from then on", async () => {
    const directory = await buildDirectory(users, admission);
    const entry = await directory.verify("New-Admin@Globex.example", "demo-password");
    expect(entry?.email).toBe("new-admin@globex.example");
    const claims = await findAccount(directory, entry!.sub)!.claims();
    expect(claims).toMatchObject({ email: "new-admin@globex.example", email_verified: true });
  });

  it("refuses a wrong password, an address nobody invited, and the demo password for a configured user", async () => {
    const directory = await buildDirectory(users, admission);
    expect(await directory.verify("new-admin@globex.example", "not-the-password")).toBeUndefined();
    expect(await directory.verify("stranger@globex.example", "demo-password")).toBeUndefined();
    expect(await directory.verify("vendor@custody.example", "demo-password")).toBeUndefined();
    expect((await directory.verify("vendor@custody.example", "vendor-own-password"))?.email).toBe("vendor@custody.example");
  });

  it("admits nobody beyond its users without an admission (outside demo mode)", async () => {
    const directory = await buildDirectory(users);
    expect(await directory.verify("new-admin@globex.example", "demo-password")).toBeUndefined();
  });
});
