import { describe, expect, it } from "vitest";
import { gcpAccessInstructions } from "./instructions";
import { GcpKeyRefError, parseGcpKeyRef } from "./key-ref";

const NAME = "projects/acme-prod/locations/europe-west1/keyRings/custody/cryptoKeys/tenant-key";

function refusal(input: string): string {
  try {
    parseGcpKeyRef(input);
  } catch (error) {
    if (error instanceof GcpKeyRefError) return error.message;
    throw error;
  }
  throw new Error(`accepted ${input}`);
}

describe("Cloud KMS key names", () => {
  it("accepts a crypto key's resource name (and its full resource name) and names its parts", () => {
    expect(parseGcpKeyRef(` ${NAME}\n`)).toEqual({ name: NAME, project: "acme-prod", location: "europe-west1", keyRing: "custody", cryptoKey: "tenant-key" });
    expect(parseGcpKeyRef(`//cloudkms.googleapis.com/${NAME}`).name).toBe(NAME);
  });

  it("refuses malformed names with a message saying what is wrong", () => {
    expect(refusal("")).toMatch(/Enter the key's resource name/);
    expect(refusal(`${NAME}/cryptoKeyVersions/3`)).toMatch(/names a key version/);
    expect(refusal("projects/acme-prod/keyRings/custody/cryptoKeys/k")).toMatch(/has the form projects\/<project>\/locations/);
    expect(refusal("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")).toMatch(/has the form/);
    expect(refusal(NAME.replace("acme-prod", "123456789012"))).toMatch(/project ID/);
    expect(refusal(NAME.replace("acme-prod", "Acme Prod"))).toMatch(/project ID/);
    expect(refusal(NAME.replace("europe-west1", "Europe West"))).toMatch(/location/);
    expect(refusal(NAME.replace("keyRings/custody", "keyRings/cust.ody"))).toMatch(/key ring/);
    expect(refusal(NAME.replace("tenant-key", "x".repeat(64)))).toMatch(/The key must be/);
    expect(refusal(`${NAME}/${"a".repeat(600)}`)).toMatch(/at most 512/);
  });
});

describe("Cloud KMS access instructions", () => {
  it("binds both roles on the key itself to Custody's service account", () => {
    const instructions = gcpAccessInstructions(parseGcpKeyRef(NAME), "custody@vendor.iam.gserviceaccount.com");
    expect(instructions.gcloudCommands).toContain("gcloud kms keys add-iam-policy-binding tenant-key \\\n  --project acme-prod --location europe-west1 --keyring custody \\\n  --member serviceAccount:custody@vendor.iam.gserviceaccount.com --role roles/cloudkms.cryptoKeyEncrypterDecrypter");
    expect(instructions.gcloudCommands).toContain("--role roles/cloudkms.viewer");
    expect(JSON.parse(instructions.policyBindings)).toEqual({
      bindings: [
        { role: "roles/cloudkms.cryptoKeyEncrypterDecrypter", members: ["serviceAccount:custody@vendor.iam.gserviceaccount.com"] },
        { role: "roles/cloudkms.viewer", members: ["serviceAccount:custody@vendor.iam.gserviceaccount.com"] },
      ],
    });
  });
});

describe("Custody's service-account key file", () => {
  it("is read for its account and key, and a file that is not one is refused without quoting it", async () => {
    const { parseServiceAccountKey } = await import("./settings");
    const pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n";
    const key = { type: "service_account", client_email: "custody@vendor.iam.gserviceaccount.com", private_key: pem, private_key_id: "abc", project_id: "vendor" };
    expect(parseServiceAccountKey(JSON.stringify(key))).toEqual({ client_email: key.client_email, private_key: pem, private_key_id: "abc", project_id: "vendor" });
    expect(() => parseServiceAccountKey("secret-not-json")).toThrow(/^is not JSON/);
    const refused = () => parseServiceAccountKey(JSON.stringify({ ...key, type: "authorized_user" }));
    expect(refused).toThrow(/is not a service-account key file/);
    expect(refused).not.toThrow(/MIIE/);
  });
});

describe("start-up", () => {
  it("stops on a GCP_KMS_CREDENTIALS_FILE that is not a service-account key, naming the variable, never the contents", async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const path = await import("node:path");
    const { configProblems } = await import("@/lib/config");
    const { KEY_MATERIAL_CHECKS } = await import("@/lib/server/load-config");
    const dir = mkdtempSync(path.join(tmpdir(), "custody-gcp-key-"));
    try {
      const file = path.join(dir, "key.json");
      writeFileSync(file, JSON.stringify({ type: "authorized_user", refresh_token: "secret-refresh-token" }));
      const problems = configProblems({ GCP_KMS_CREDENTIALS_FILE: file }, "library", KEY_MATERIAL_CHECKS);
      expect(problems).toEqual([expect.stringMatching(/^GCP_KMS_CREDENTIALS_FILE .*is not a service-account key file/)]);
      expect(problems.join()).not.toContain("secret-refresh-token");
      expect(configProblems({ GCP_KMS_CREDENTIALS_FILE: path.join(dir, "missing.json") }, "library", KEY_MATERIAL_CHECKS)).toEqual([
        expect.stringMatching(/^GCP_KMS_CREDENTIALS_FILE .*cannot read/),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
