import { describe, expect, it } from "vitest";
import { parseEnv } from "@/lib/config";
import { isAppError } from "@/lib/errors";
import { kmsProviderChoices } from "./choices";
import { keyRefOf } from "./key-ref";
import { KMS_PROVIDER_NAMES } from "./provider-names";
import { KMS_PROVIDERS, kmsProvider } from "./registry";

describe("the KMS provider registry", () => {
  it("has a definition under each provider name, named after it", () => {
    for (const name of KMS_PROVIDER_NAMES) expect(KMS_PROVIDERS[name].name).toBe(name);
    expect(Object.keys(KMS_PROVIDERS).sort()).toEqual([...KMS_PROVIDER_NAMES].sort());
  });

  it("refuses an unknown provider as bad input naming the field, without echoing more than a short prefix", () => {
    let error: unknown;
    try {
      kmsProvider(`thales${"x".repeat(200)}`);
    } catch (caught) {
      error = caught;
    }
    expect(isAppError(error) && error.code).toBe("bad_request");
    expect(isAppError(error) && error.fieldErrors).toEqual({ provider: ["Choose a KMS provider."] });
    expect((error as Error).message.length).toBeLessThan(120);
  });

  it("reads a stored key only for a provider this build knows", () => {
    expect(keyRefOf({ provider: "aws", keyRef: "r", keyDetails: { region: "x" } })).toEqual({ provider: "aws", ref: "r", details: { region: "x" } });
    expect(keyRefOf({ provider: "aws", keyRef: "r", keyDetails: null }).details).toEqual({});
    expect(() => keyRefOf({ provider: "thales", keyRef: "r", keyDetails: {} })).toThrow(/unknown provider/);
  });

  it("offers only the providers the deployment is configured for", () => {
    expect(kmsProviderChoices(parseEnv({}, "library")).map((c) => c.name)).not.toContain("aws");
    const configured = kmsProviderChoices(parseEnv({ KMS_VENDOR_PRINCIPAL_ARN: "arn:aws:iam::999988887777:role/custody" }, "library"));
    expect(configured.find((c) => c.name === "aws")).toMatchObject({ label: "AWS KMS", fields: [{ name: "arn" }, { name: "grantIds" }] });
  });
});
