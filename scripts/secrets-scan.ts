// `npm test`, after the e2e run: the secrets e2e/secrets-canary.spec.ts made through the product
// (a data key, a credential secret, a webhook signing secret and URL token, a session token) must
// appear nowhere in the run's logs (the files named on the command line: Playwright's output,
// which carries the e2e server's stdout and stderr), in the database dump the e2e server takes
// before dropping its database, or in the browser bundle (.next/static). Each is looked for as
// sent and in the encodings a careless log line would use (hex, base64url, URL-encoded).
// Prints where a value was found (never the value); exits 1 on any hit or a missing input.
// The dump also shows whether the run stayed under the sign-in limits it runs with (raised for
// it, not off): every browser signs in from 127.0.0.1, which must never have been limited.
import fs from "node:fs";
import path from "node:path";
import { CANARY_FILE, type Canaries, DATABASE_DUMP_FILE } from "./secrets-canary";

const STATIC_DIR = path.resolve(__dirname, "../.next/static");

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/** A value and the encodings it might be logged in. */
function formsOf(value: string): Array<[string, Buffer]> {
  const forms: Array<[string, string]> = [["as is", value], ["URL-encoded", encodeURIComponent(value)]];
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(value)) {
    const bytes = Buffer.from(value, "base64");
    forms.push(["hex", bytes.toString("hex")], ["base64url", bytes.toString("base64url")], ["unpadded base64", value.replace(/=+$/, "")]);
  }
  const seen = new Set<string>();
  return forms.filter(([, text]) => !seen.has(text) && seen.add(text)).map(([kind, text]) => [kind, Buffer.from(text, "utf8")]);
}

function main(logs: string[]): number {
  const problems: string[] = [];
  if (!fs.existsSync(CANARY_FILE)) problems.push(`no canaries at ${path.relative(process.cwd(), CANARY_FILE)}: e2e/secrets-canary.spec.ts did not run to its end`);
  if (!fs.existsSync(DATABASE_DUMP_FILE)) problems.push(`no database dump at ${path.relative(process.cwd(), DATABASE_DUMP_FILE)}: the e2e server did not stop normally`);
  const statics = filesUnder(STATIC_DIR);
  if (statics.length === 0) problems.push("no .next/static: no build to scan");
  for (const log of logs) if (!fs.existsSync(log)) problems.push(`no log at ${log}`);
  if (problems.length > 0) {
    for (const p of problems) console.error(`secrets scan: ${p}`);
    return 1;
  }
  const canaries = JSON.parse(fs.readFileSync(CANARY_FILE, "utf8")) as Canaries;
  const forms = Object.entries(canaries).flatMap(([name, value]) => formsOf(value).map(([kind, bytes]) => ({ name, kind, bytes })));
  const files = [...logs, DATABASE_DUMP_FILE, ...statics];
  let bytesScanned = 0;
  const hits: string[] = [];
  for (const file of files) {
    const content = fs.readFileSync(file);
    bytesScanned += content.length;
    for (const form of forms) if (content.includes(form.bytes)) hits.push(`${form.name} (${form.kind}) in ${path.relative(process.cwd(), file)}`);
  }
  const summary = `${Object.keys(canaries).length} canaries in ${forms.length} forms, ${files.length} files (${(bytesScanned / 1_048_576).toFixed(1)} MiB: ${logs.length} log(s), the database dump, ${statics.length} files of .next/static)`;
  if (hits.length > 0) {
    console.error(`secrets scan: ${hits.length} hit(s) over ${summary}:`);
    for (const hit of hits) console.error(`  ${hit}`);
    return 1;
  }
  console.log(`secrets scan: 0 hits over ${summary}`);
  return runAddressLimited(fs.readFileSync(DATABASE_DUMP_FILE, "utf8")) ? 1 : 0;
}

/** Whether the dump's trail has a sign-in rate limit on the run's own address (the browsers'). */
function runAddressLimited(dump: string): boolean {
  const limited = dump.split("\n").filter((line) => line.includes("auth.sign_in_rate_limited") && /(^|[^\d.])(127\.0\.0\.1|::1)([^\d.]|$)/.test(line));
  if (limited.length > 0) {
    console.error(`sign-in limits: the e2e run's own address was limited ${limited.length} time(s): raise SIGN_IN_* in scripts/e2e-server.ts above what the run does`);
    return true;
  }
  console.log("sign-in limits: the run's own address (127.0.0.1) stayed under them");
  return false;
}

process.exitCode = main(process.argv.slice(2));
