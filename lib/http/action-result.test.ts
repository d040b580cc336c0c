import { afterEach, describe, expect, it, vi } from "vitest";
import { AppError } from "@/lib/errors";
import { log } from "@/lib/log";
import { actionResult } from "./action-result";

afterEach(() => vi.restoreAllMocks());

function form(values: Record<string, string>): FormData {
  const data = new FormData();
  for (const [k, v] of Object.entries(values)) data.set(k, v);
  return data;
}

describe("actionResult", () => {
  it("logs a refusal (a taken tenant URL name) at info with its code, and the form gets the message", async () => {
    const info = vi.spyOn(log, "info").mockImplementation(() => undefined);
    const error = vi.spyOn(log, "error").mockImplementation(() => undefined);
    const result = await actionResult(form({ slug: "acme" }), async () => {
      throw new AppError("conflict", 'A tenant with the URL name "acme" already exists. Choose another.', { slug: ["This URL name is taken."] });
    });
    expect(result).toMatchObject({ ok: false, code: "conflict", fieldErrors: { slug: ["This URL name is taken."] }, values: { slug: "acme" } });
    expect(info).toHaveBeenCalledWith({ code: "conflict" }, "action refused");
    expect(error).not.toHaveBeenCalled();
  });

  it("logs anything unexpected as an error by class and message, and answers generically", async () => {
    const error = vi.spyOn(log, "error").mockImplementation(() => undefined);
    const result = await actionResult(form({}), async () => {
      throw new TypeError("boom");
    });
    expect(result).toMatchObject({ ok: false, code: "internal" });
    expect(result.ok ? "" : result.message).not.toContain("boom");
    expect(error).toHaveBeenCalledWith({ errorName: "TypeError", errorMessage: "boom" }, "server action failed");
  });
});
