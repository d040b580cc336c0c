import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkpointFileName, PUBLIC_KEY_FILE } from "@/lib/audit/integrity/checkpoint-instructions";
import { checkpointDocument, checkpointStatement, signStatement } from "@/lib/audit/integrity/checkpoint-statement";
import { parseSigningKeyPem } from "@/lib/audit/integrity/signing-key";
import { disconnectDb } from "@/lib/db";
import { revokeAccess } from "@/lib/keys";
import { signWebhookBody } from "@/lib/sinks/transports/webhook-signature";
import { newSigningKeyPem } from "../helpers/audit-trail";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { vendorIamPolicy, vendorTrustPolicy } from "@/lib/kms/providers/aws/vendor-policy";
import { KeyServiceFixture, type TenantWithKey } from "../helpers/key-service";

// Every fenced code block in README.md runs here, as a reader would run it, against real parts:
// the webhook verify() snippet against deliveries signed by Custody's own signer, the openssl
// commands against a checkpoint signed as the server signs them, the curl call and the SDK
// example against a real key-service process. A block that cannot run in a test is preceded by
// `<!-- readme-test: skip (reason) -->`; any other block no runner below takes fails the test.
// The only edits made to a block: the demo's URL (port 3000) becomes the test server's, and a
// placeholder line `TENANT=<…>` gets a real tenant id.

const root = path.resolve(__dirname, "../..");
const run = promisify(execFile);

type Block = { lang: string; code: string; line: number; skip: string | null };

function readmeBlocks(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith("```"));
    if (end < 0) throw new Error(`README.md line ${i + 1}: a code block is never closed`);
    let before = i - 1;
    while (before >= 0 && lines[before]!.trim() === "") before--;
    const marker = /^<!-- readme-test: skip \((.+)\) -->$/.exec(lines[before]?.trim() ?? "");
    blocks.push({ lang: open[1] ?? "", code: lines.slice(i + 1, end).join("\n"), line: i + 1, skip: marker?.[1] ?? null });
    i = end;
  }
  return blocks;
}

const blocks = readmeBlocks(fs.readFileSync(path.join(root, "README.md"), "utf8"));

type Runner = { name: string; takes: (b: Block) => boolean };
const RUNNERS = {
  checkpoint: { name: "checkpoint verification with openssl", takes: (b) => /^(sh|bash)$/.test(b.lang) && b.code.includes("openssl pkeyutl -verify") },
  webhook: { name: "webhook verify()", takes: (b) => b.lang === "js" && b.code.includes("function verify(") },
  curl: { name: "curl to the key service", takes: (b) => /^(sh|bash)$/.test(b.lang) && b.code.includes("/api/v1/wrap") },
  sdk: { name: "the TypeScript SDK", takes: (b) => b.lang === "ts" && b.code.includes("new CustodyClient") },
  vendorPolicy: { name: "the vendor's IAM policy", takes: (b) => b.lang === "json" && b.code.includes("CustodyUseCustomerKeysPerTenant") },
  trustPolicy: { name: "the vendor role's trust policy", takes: (b) => b.lang === "json" && b.code.includes("CustodyRunsAsThisRole") },
} satisfies Record<string, Runner>;

function blockFor(runner: Runner): Block {
  const taken = blocks.filter((b) => !b.skip && runner.takes(b));
  expect(taken, `README blocks for "${runner.name}"`).toHaveLength(1);
  return taken[0]!;
}

const dirs: string[] = [];
function scratch(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "custody-readme-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe("README.md code blocks", () => {
  it("are each run below, or marked as skipped with a reason", () => {
    expect(blocks.length).toBeGreaterThan(0);
    const unrun = blocks.filter((b) => !b.skip && !Object.values(RUNNERS).some((r) => r.takes(b)));
    expect(unrun.map((b) => `line ${b.line} (${b.lang || "no language"})`)).toEqual([]);
    for (const b of blocks) expect(b.lang, `README line ${b.line}`).toMatch(/^(sh|bash|js|ts|json)$/);
    // Skipping is for what a test cannot do (install, the whole suite, minutes of load, a real
    // AWS account) and for the key-policy excerpt with placeholders.
    expect(blocks.filter((b) => b.skip).map((b) => b.code)).toEqual([
      "npm install && npm start",
      "npm test",
      expect.stringMatching(/^npm run bench\b/),
      expect.stringMatching(/^aws iam create-role /),
      expect.stringMatching(/^aws iam put-role-policy /),
      expect.stringMatching(/^KMS_ROLE_ARN=/),
      expect.stringMatching(/^\[\n  \{ "Sid": "CustodyDescribeKey/),
      expect.stringMatching(/^aws kms get-key-policy /),
      expect.stringMatching(/^aws kms create-grant /),
      expect.stringMatching(/^az ad sp create /),
    ]);
  });

  it("the vendor's IAM policy is exactly the one the vendor console shows", () => {
    const block = blockFor(RUNNERS.vendorPolicy);
    expect(JSON.parse(block.code)).toEqual(JSON.parse(vendorIamPolicy("arn:aws:iam::999988887777:role/custody")));
  });

  it("the vendor role's trust policy is exactly the one the vendor console generates", () => {
    const block = blockFor(RUNNERS.trustPolicy);
    expect(JSON.parse(block.code)).toEqual(JSON.parse(vendorTrustPolicy("arn:aws:iam::999988887777:role/custody-instance", "custody-prod-7f3e")));
  });

  it("verify() accepts Custody's webhook signatures and rejects everything else, on this Node.js", async () => {
    const block = blockFor(RUNNERS.webhook);
    const dir = scratch();
    const file = path.join(dir, "verify.cjs");
    fs.writeFileSync(
      file,
      `${block.code}\nconst cases = JSON.parse(require("node:fs").readFileSync(0, "utf8"));\n` +
        `console.log(JSON.stringify(cases.map(([secret, header, body]) => verify(secret, header, Buffer.from(body, "utf8")))));\n`,
    );
    const secret = randomBytes(32).toString("base64url");
    const body = JSON.stringify({ events: [{ id: "acme:1", action: "key.wrap" }] });
    const now = Math.floor(Date.now() / 1000);
    const good = signWebhookBody(secret, body, now);
    const rotated = `${signWebhookBody("an-older-secret", body, now)},${good.split(",")[1]}`;
    const cases: Array<[string, string | null, string, boolean]> = [
      [secret, good, body, true],
      [secret, rotated, body, true],
      [secret, good, body.replace("wrap", "unwrap"), false],
      ["another secret", good, body, false],
      [secret, signWebhookBody(secret, body, now - 600), body, false],
      [secret, null, body, false],
      [secret, "t=abc,v1=zz", body, false],
      [secret, `t=${now}`, body, false],
    ];
    const child = execFile(process.execPath, [file], { cwd: dir });
    child.stdin!.end(JSON.stringify(cases.map(([s, h, b]) => [s, h, b])));
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
    let err = "";
    child.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual(cases.map((c) => c[3]));
  });

  it("the openssl commands verify a downloaded checkpoint under the name the console gives it, and catch an edit", async () => {
    const block = blockFor(RUNNERS.checkpoint);
    const named = /^CHECKPOINT=(\S+)$/m.exec(block.code)?.[1];
    const [, slug, seq] = /^custody-checkpoint-([a-z0-9-]+)-(\d+)\.json$/.exec(named ?? "") ?? [];
    expect(slug && seq && checkpointFileName(slug, BigInt(seq)), "the README's file name is one the console gives").toBe(named);
    const key = parseSigningKeyPem(newSigningKeyPem());
    const fields = { chain: "0b1c9a6e-7f7e-4c39-9a59-3d0f5d8c2a11", seq: BigInt(seq!), headHash: randomBytes(32).toString("hex"), signedAt: new Date(), keyId: key.keyId };
    const doc = checkpointDocument(fields, signStatement(checkpointStatement(fields), key.privateKey));
    const dir = scratch();
    fs.writeFileSync(path.join(dir, PUBLIC_KEY_FILE), key.publicKeyPem);
    fs.writeFileSync(path.join(dir, named!), `${JSON.stringify(doc, null, 2)}\n`);
    const good = await run("bash", ["-euo", "pipefail", "-c", block.code], { cwd: dir });
    expect(good.stdout).toContain("Signature Verified Successfully");

    fs.writeFileSync(path.join(dir, named!), JSON.stringify({ ...doc, statement: doc.statement.replace(`seq: ${seq}`, "seq: 1") }));
    await expect(run("bash", ["-euo", "pipefail", "-c", block.code], { cwd: dir })).rejects.toMatchObject({
      stdout: expect.stringContaining("Signature Verification Failure"),
    });
  });

  describe("against a key-service process", () => {
    let database: TestDatabase;
    let fixture: KeyServiceFixture;
    let acme: TenantWithKey;
    let url: string;
    let token: string;

    beforeAll(async () => {
      database = await createTestDatabase();
      process.env.DATABASE_URL = database.url;
      fixture = await KeyServiceFixture.start(database.url);
      acme = await fixture.tenantWithKey("acme");
      token = (await fixture.credential({ name: "readme", tenantId: acme.tenantId })).token;
      url = (await fixture.instance()).url;
    });
    afterAll(async () => {
      await fixture?.close();
      await disconnectDb();
      await database?.drop();
    });

    const forTest = (code: string) => code.replaceAll("http://localhost:3000", url).replace(/^TENANT=<[^>\n]*>$/m, `TENANT=${acme.tenantId}`);

    it("the curl command wraps a data key with the demo credential", async () => {
      const block = blockFor(RUNNERS.curl);
      expect(block.code).toContain("http://localhost:3000");
      const dir = scratch();
      fs.mkdirSync(path.join(dir, ".custody"));
      fs.writeFileSync(path.join(dir, ".custody", "demo-service-token"), `${token}\n`);
      const { stdout } = await run("bash", ["-euo", "pipefail", "-c", forTest(block.code)], { cwd: dir });
      const answer = JSON.parse(stdout) as { dek?: string; edek?: string };
      expect(Buffer.from(answer.dek ?? "", "base64")).toHaveLength(32);
      expect(answer.edek).toBeTruthy();
    });

    it("the SDK example stores and reads an invoice, and reads null once the tenant revoked access", async () => {
      const block = blockFor(RUNNERS.sdk);
      expect(block.code).toContain('from "./lib/sdk"');
      const dir = scratch();
      const file = path.join(dir, "invoices.ts");
      fs.writeFileSync(
        file,
        `${forTest(block.code).replace('from "./lib/sdk"', `from ${JSON.stringify(path.join(root, "lib/sdk"))}`)}\n` +
          `import fs from "node:fs";\n` +
          `const tenant = process.env.TENANT_ID!;\n` +
          `const stored = "${path.join(dir, "envelope.bin")}";\n` +
          `(async () => {\n` +
          `  if (!fs.existsSync(stored)) fs.writeFileSync(stored, await saveInvoice(tenant, { id: "inv-1", total: 1234 }));\n` +
          `  console.log(JSON.stringify(await readInvoice(tenant, "inv-1", fs.readFileSync(stored))));\n` +
          `})().catch((error) => { console.error(error); process.exit(1); });\n`,
      );
      const env = { ...process.env, CUSTODY_TOKEN: token, TENANT_ID: acme.tenantId };
      const tsx = path.join(root, "node_modules/.bin/tsx");
      const first = await run(tsx, [file], { cwd: dir, env });
      expect(JSON.parse(first.stdout)).toEqual({ id: "inv-1", total: 1234 });

      await revokeAccess(acme.admin, { tenantId: acme.tenantId });
      const afterRevocation = await run(tsx, [file], { cwd: dir, env });
      expect(JSON.parse(afterRevocation.stdout)).toBeNull();
    });
  });
});
