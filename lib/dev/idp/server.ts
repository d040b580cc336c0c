import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { errorFields, log } from "@/lib/log";
import { buildDirectory, type Directory, type InvitedAdmission } from "./directory";
import { interactionRoutes } from "./interactions";
import type { OidcProvider } from "./oidc-types";
import { messagePage, sendHtml } from "./pages";
import { createProvider, type DevIdpClient } from "./provider";
import type { DevIdpUser } from "./users";

// The development OpenID Connect identity provider: a real authorization server
// (oidc-provider) with a password form in front of a small user directory. Demo mode and the
// tests sign in through it, so Custody's real OIDC flow (code + PKCE + state) runs end to end
// on one machine. It keeps everything in memory and makes new keys at every start.
//
// Deliberate choices:
// - The password is asked on every authorization request: there is no silent single sign-on,
//   so signing out of Custody and signing in as someone else works in one browser.
// - The configured clients are first-party: consent is granted without a consent screen.
// - PKCE (S256) is required; the ID token carries sub, email, email_verified and name.
//
// The pieces: provider.ts (oidc-provider's configuration), interactions.ts (the password form's
// routes), directory.ts (account lookup), memory-adapter.ts (storage), pages.ts (HTML). This
// file mounts them under the issuer's path and listens.

export type { DevIdpClient } from "./provider";
export { DEV_IDP_BANNER, WRONG_CREDENTIALS_MESSAGE } from "./pages";

export type DevIdpOptions = {
  port: number;
  issuer: string;
  clients: readonly DevIdpClient[];
  users: readonly DevIdpUser[];
  /** Demo mode: addresses Custody has invited sign in with the demo password (directory.ts). */
  admission?: InvitedAdmission;
  /** Interface to listen on; all interfaces when omitted. */
  host?: string;
};

export type DevIdp = { issuer: string; close: () => Promise<void> };

function normalizeIssuer(issuer: string): URL {
  let url: URL;
  try {
    url = new URL(issuer.replace(/\/+$/, ""));
  } catch {
    throw new Error(`The dev IdP issuer must be an absolute http(s) URL, got ${JSON.stringify(issuer)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("The dev IdP issuer must be an http(s) URL");
  if (url.search || url.hash) throw new Error("The dev IdP issuer must not have a query or fragment");
  return url;
}

/** The routes under the issuer's path: the interaction form, a landing page, the rest to oidc-provider. */
function router(options: { issuer: string; mountPath: string; provider: OidcProvider; directory: Directory }) {
  const { issuer, mountPath } = options;
  const providerHandler = options.provider.callback();
  const interactions = interactionRoutes(options.provider, options.directory);
  return async function route(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://dev-idp.invalid");
    let path = url.pathname;
    if (mountPath) {
      if (path !== mountPath && !path.startsWith(`${mountPath}/`)) {
        sendHtml(res, 404, messagePage("Not found", "There is nothing here."));
        return;
      }
      // Mounted the way connect/express mount it: oidc-provider derives its URLs from the
      // difference between originalUrl and url.
      (req as IncomingMessage & { originalUrl?: string }).originalUrl = req.url;
      path = path.slice(mountPath.length) || "/";
      req.url = `${path}${url.search}`;
    }

    const interaction = /^\/interaction\/([A-Za-z0-9_-]{1,64})\/?$/.exec(path);
    if (interaction?.[1]) {
      const uid = interaction[1];
      const action = `${mountPath}/interaction/${uid}`;
      if (req.method === "GET") return interactions.show(req, res, uid, action);
      if (req.method === "POST") return interactions.submit(req, res, uid, action);
      res.setHeader("Allow", "GET, POST");
      sendHtml(res, 405, messagePage("Not allowed", "Use the sign-in form."));
      return;
    }

    if (path === "/" && (req.method === "GET" || req.method === "HEAD")) {
      sendHtml(
        res,
        200,
        messagePage(
          "Development identity provider",
          `This OpenID Connect provider exists for Custody's demo mode and tests. Discovery: ${issuer}/.well-known/openid-configuration`,
        ),
      );
      return;
    }

    await providerHandler(req, res);
  };
}

/** Starts the development identity provider and resolves once it is listening. */
export async function startDevIdp(options: DevIdpOptions): Promise<DevIdp> {
  const issuerUrl = normalizeIssuer(options.issuer);
  const issuer = issuerUrl.href.replace(/\/+$/, "");
  const mountPath = issuerUrl.pathname.replace(/\/+$/, "");
  if (options.clients.length === 0) throw new Error("The dev IdP needs at least one client");

  const directory = await buildDirectory(options.users, options.admission);
  const provider = createProvider({ issuer, https: issuerUrl.protocol === "https:", mountPath, clients: options.clients, directory });
  const route = router({ issuer, mountPath, provider, directory });

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      log.error(errorFields(error), "dev IdP request failed");
      if (!res.headersSent) sendHtml(res, 500, messagePage("Something went wrong", "The development identity provider failed; see its log."));
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        new Error(
          error.code === "EADDRINUSE"
            ? `The dev IdP could not listen on port ${options.port}: it is already in use`
            : `The dev IdP could not start: ${error.message}`,
        ),
      );
    };
    server.once("error", onError);
    server.listen(options.port, options.host, () => {
      server.off("error", onError);
      resolve();
    });
  });

  let closing: Promise<void> | undefined;
  return {
    issuer,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
