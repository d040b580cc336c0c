"use server";

import { z } from "zod";
import { runVendorSelfTest, type VendorSelfTest } from "@/lib/fleet/vendor-self-test";
import { authedAction } from "@/lib/http/authed-action";

export const runSelfTestAction = authedAction(z.object({}), async (_input, { caller }) => {
  const data: VendorSelfTest = await runVendorSelfTest(caller);
  return { ok: true, data };
});
