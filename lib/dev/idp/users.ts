import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { z } from "zod";

// The directory of the development identity provider: who can sign in to demo mode and to
// the tests. These people are made up and their password is public on purpose; the dev IdP
// is never a production identity provider.

export type DevIdpUser = { email: string; name: string; password: string };

export const DEMO_PASSWORD = "custody-demo";

export const DEMO_USERS: readonly DevIdpUser[] = Object.freeze([
  // The vendor admin: runs the Custody installation for the SaaS vendor.
  { email: "vendor@custody.example", name: "Vera Vendor", password: DEMO_PASSWORD },
  // Acme's tenant admin.
  { email: "admin@acme.example", name: "Ada Admin", password: DEMO_PASSWORD },
  // Acme's tenant auditor.
  { email: "auditor@acme.example", name: "Otto Auditor", password: DEMO_PASSWORD },
  // Can sign in at the IdP but has no access anywhere in Custody.
  { email: "outsider@example.com", name: "Oscar Outsider", password: DEMO_PASSWORD },
]);

/** How the dev IdP compares emails: trimmed and lower-cased. */
export function normalizeDevIdpEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * The `sub` the dev IdP issues for an email: opaque, stable across restarts and machines,
 * and the same whatever the email's casing.
 */
export function devIdpSubject(email: string): string {
  return `dev-${createHash("sha256").update(`custody-dev-idp:${normalizeDevIdpEmail(email)}`).digest("hex").slice(0, 32)}`;
}

const requiredString = () =>
  z.string({ error: (issue) => (issue.input === undefined ? "is required" : "must be a string") });

const userSchema = z
  .object({
    email: requiredString().trim().pipe(z.email("must be an email address")),
    name: requiredString().trim().min(1, "must not be empty").max(200, "must be at most 200 characters"),
    password: requiredString().min(1, "must not be empty").max(1024, "must be at most 1024 characters"),
  })
  .strict();

const usersSchema = z.array(userSchema, { message: "must be a JSON array of { email, name, password } objects" });

/**
 * Reads a JSON array of `{ "email", "name", "password" }` objects. Throws an Error that names
 * the file and every problem; it never echoes a password or the file's contents.
 */
export function loadUsersFile(path: string): DevIdpUser[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "it does not exist" : code === "EACCES" ? "permission denied" : (code ?? "read failed");
    throw new Error(`Dev IdP users file ${path} could not be read: ${why}`);
  }

  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    // V8's message can quote part of the file (a password, say), so only say where.
    const position = /position (\d+)/.exec(error instanceof Error ? error.message : "")?.[1];
    let where = "";
    if (position !== undefined) {
      const before = text.slice(0, Number(position)).split("\n");
      where = ` (line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1})`;
    }
    throw new Error(`Dev IdP users file ${path} is not valid JSON${where}`);
  }

  const result = usersSchema.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const at = issue.path.length ? issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("") : "";
      return `  - ${at ? `${at.replace(/^\./, "")} ` : ""}${issue.message}`;
    });
    throw new Error(`Dev IdP users file ${path} is invalid:\n${problems.join("\n")}`);
  }

  const seen = new Set<string>();
  for (const [i, user] of result.data.entries()) {
    const key = normalizeDevIdpEmail(user.email);
    if (seen.has(key)) throw new Error(`Dev IdP users file ${path} is invalid:\n  - [${i}].email ${key} appears more than once`);
    seen.add(key);
  }
  return result.data;
}
