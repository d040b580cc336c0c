// Starts the development OpenID Connect identity provider on its own:
//
//   npx tsx scripts/dev-idp.ts
//
// Environment (all optional):
//   DEV_IDP_PORT           port to listen on (default 3001)
//   DEV_IDP_ISSUER         issuer URL (default http://localhost:<port>)
//   OIDC_CLIENT_ID         the one client's id (default custody)
//   OIDC_CLIENT_SECRET     its secret (default custody-dev-secret)
//   DEV_IDP_REDIRECT_URIS  comma-separated redirect URIs
//                          (default http://localhost:3000/api/auth/callback/oidc)
//   DEV_IDP_USERS_FILE     JSON file of extra users [{ "email", "name", "password" }],
//                          added to the demo users
//
// Post-logout redirects are allowed to the origins of the redirect URIs.
import { z } from "zod";
import { startDevIdp } from "../lib/dev/idp/server";
import { DEMO_USERS, loadUsersFile } from "../lib/dev/idp/users";
import { stopOnSignals } from "../lib/server/stop-on-signals";

const port = z.coerce.number({ message: "must be a port number" }).int("must be a whole number").min(1).max(65535);
const httpUrl = z
  .string()
  .trim()
  .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), "must be an http:// or https:// URL");

const envSchema = z.object({
  DEV_IDP_PORT: port.default(3001),
  DEV_IDP_ISSUER: httpUrl.optional(),
  OIDC_CLIENT_ID: z.string().trim().min(1, "must not be empty").default("custody"),
  OIDC_CLIENT_SECRET: z.string().min(1, "must not be empty").default("custody-dev-secret"),
  DEV_IDP_REDIRECT_URIS: z
    .string()
    .default("http://localhost:3000/api/auth/callback/oidc")
    .transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(httpUrl).min(1, "must list at least one URL")),
  DEV_IDP_USERS_FILE: z.string().trim().min(1).optional(),
});

function readEnv() {
  const names = Object.keys(envSchema.shape);
  const relevant = Object.fromEntries(names.map((k) => [k, process.env[k] === "" ? undefined : process.env[k]]));
  const result = envSchema.safeParse(relevant);
  if (!result.success) {
    // Values are not echoed: OIDC_CLIENT_SECRET is one of them.
    const problems = result.error.issues.map((i) => `  - ${i.path.join(".")} ${i.message}`);
    throw new Error(`Invalid dev IdP configuration:\n${problems.join("\n")}`);
  }
  return result.data;
}

async function main() {
  const env = readEnv();
  const extraUsers = env.DEV_IDP_USERS_FILE ? loadUsersFile(env.DEV_IDP_USERS_FILE) : [];
  const issuer = env.DEV_IDP_ISSUER ?? `http://localhost:${env.DEV_IDP_PORT}`;
  const postLogoutRedirectUris = [...new Set(env.DEV_IDP_REDIRECT_URIS.map((uri) => `${new URL(uri).origin}/`))];

  const idp = await startDevIdp({
    port: env.DEV_IDP_PORT,
    issuer,
    clients: [
      {
        clientId: env.OIDC_CLIENT_ID,
        clientSecret: env.OIDC_CLIENT_SECRET,
        redirectUris: env.DEV_IDP_REDIRECT_URIS,
        postLogoutRedirectUris,
      },
    ],
    users: [...DEMO_USERS, ...extraUsers],
  });

  console.log(`Custody development identity provider (not for production) listening: ${idp.issuer}`);
  console.log(`  discovery: ${idp.issuer}/.well-known/openid-configuration`);
  console.log(`  client: ${env.OIDC_CLIENT_ID}; users: ${DEMO_USERS.length} demo + ${extraUsers.length} from file`);

  stopOnSignals("the dev IdP", () => idp.close());
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
