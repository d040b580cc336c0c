import { afterEach, describe, expect, it, vi } from "vitest";
import { log } from "@/lib/log";
import { cancelledSignInRedirect } from "./cancelled-sign-in";

afterEach(() => vi.restoreAllMocks());

describe("cancelledSignInRedirect", () => {
  it("sends a person who cancelled at the IdP back to sign-in, logged at info and never as an error", () => {
    const info = vi.spyOn(log, "info").mockImplementation(() => undefined);
    const error = vi.spyOn(log, "error");
    const response = cancelledSignInRedirect(new URL("https://custody.example/api/auth/callback/oidc?error=access_denied&error_description=The+person+cancelled&state=abc"));
    expect(response?.status).toBe(302);
    expect(response?.headers.get("location")).toBe("/api/auth/signin?error=Cancelled");
    expect(info).toHaveBeenCalledWith({ code: "sign_in_cancelled" }, "sign-in cancelled at the identity provider");
    expect(error).not.toHaveBeenCalled();
  });

  it("leaves every other callback and auth route to next-auth", () => {
    for (const url of [
      "https://custody.example/api/auth/callback/oidc?code=xyz&state=abc",
      "https://custody.example/api/auth/callback/oidc?error=server_error",
      "https://custody.example/api/auth/signin?error=access_denied",
    ]) {
      expect(cancelledSignInRedirect(new URL(url))).toBeNull();
    }
  });
});
