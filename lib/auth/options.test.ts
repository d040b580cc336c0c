import { beforeEach, describe, expect, it, vi } from "vitest";

// The signIn callback decides who gets a session; what it needs from a request (headers,
// cookies) and the database (access, audit) is replaced here so its decision can be checked.
const refused = vi.fn();
vi.mock("next/headers", () => ({
  headers: async () => new Headers(),
  cookies: async () => ({ set: vi.fn() }),
}));
vi.mock("./sign-in-events", () => ({
  hasAnyAccess: async () => true,
  recordSignIn: vi.fn(),
  recordSignOut: vi.fn(),
  recordSignInRefused: (...args: unknown[]) => refused(...args),
}));

const { buildAuthOptions } = await import("./options");
const { parseEnv } = await import("@/lib/config");

async function signIn(profile: Record<string, unknown>) {
  const signInCallback = buildAuthOptions({ ...parseEnv({}), OIDC_ISSUER: "http://idp.test" }).callbacks!.signIn!;
  return signInCallback({ profile, user: { id: "u", email: String(profile.email ?? "") }, account: null } as never);
}

describe("sign-in and the IdP's email_verified claim", () => {
  beforeEach(() => refused.mockReset());

  it("lets a person in whose IdP asserts email_verified: true", async () => {
    expect(await signIn({ sub: "1", email: "ada@acme.example", email_verified: true })).toBe(true);
    expect(refused).not.toHaveBeenCalled();
  });

  it.each([
    ["false", { email_verified: false }],
    ["missing", {}],
    ["the string 'true'", { email_verified: "true" }],
    ["1", { email_verified: 1 }],
  ])("refuses an email whose email_verified claim is %s", async (_label, claim) => {
    expect(await signIn({ sub: "1", email: "ada@acme.example", ...claim })).toBe("/signin?error=EmailNotVerified");
    expect(refused).toHaveBeenCalledWith("ada@acme.example", expect.anything(), "email not verified at the identity provider");
  });
});
