import { KMSClient } from "@aws-sdk/client-kms";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runtimeNotice } from "./runtime-notice";

afterEach(() => {
  vi.restoreAllMocks();
  delete process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
});

describe("runtimeNotice", () => {
  it("is one line on Node 20 and nothing on the supported lines", () => {
    expect(runtimeNotice("20.20.2")).toBe("Node.js 20.20.2 is past its end of life: Custody supports Node.js 22 and 24 (and still runs on 20)");
    expect(runtimeNotice("22.23.5")).toBeNull();
    expect(runtimeNotice("24.1.0")).toBeNull();
  });

  it("keeps the AWS SDK's multi-line Node-version notice off the output", () => {
    const emitted = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    runtimeNotice();
    new KMSClient({ region: "us-east-1", credentials: { accessKeyId: "AKIAEXAMPLEEXAMPLE", secretAccessKey: "example-secret-example" } }).destroy();
    expect(emitted.mock.calls.filter(([warning]) => String(warning).includes("NodeVersionSupportWarning"))).toEqual([]);
  });
});
