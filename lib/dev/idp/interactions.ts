import type { IncomingMessage, ServerResponse } from "node:http";
import type { Directory } from "./directory";
import type { Interaction, OidcProvider } from "./oidc-types";
import { loginPage, messagePage, readForm, sendHtml, WRONG_CREDENTIALS_MESSAGE } from "./pages";

// The interaction routes (`<mount>/interaction/<uid>`): the password form, its submission
// (sign in, wrong credentials, cancel) and the page for an expired or foreign interaction.

export type InteractionRoutes = {
  show(req: IncomingMessage, res: ServerResponse, uid: string, action: string): Promise<void>;
  submit(req: IncomingMessage, res: ServerResponse, uid: string, action: string): Promise<void>;
};

export function interactionRoutes(provider: OidcProvider, directory: Directory): InteractionRoutes {
  async function load(req: IncomingMessage, res: ServerResponse, uid: string): Promise<Interaction | undefined> {
    let interaction: Interaction | undefined;
    try {
      interaction = await provider.interactionDetails(req, res);
    } catch {
      interaction = undefined;
    }
    if (!interaction || interaction.uid !== uid || interaction.prompt.name !== "login") {
      sendHtml(
        res,
        400,
        messagePage("Sign-in expired", "This sign-in request has expired or is not valid. Go back to the application and sign in again."),
      );
      return undefined;
    }
    return interaction;
  }

  async function show(req: IncomingMessage, res: ServerResponse, uid: string, action: string) {
    const interaction = await load(req, res, uid);
    if (!interaction) return;
    const hint = typeof interaction.params.login_hint === "string" ? interaction.params.login_hint : "";
    sendHtml(res, 200, loginPage({ action, clientId: String(interaction.params.client_id ?? ""), email: hint }));
  }

  async function submit(req: IncomingMessage, res: ServerResponse, uid: string, action: string) {
    const interaction = await load(req, res, uid);
    if (!interaction) return;
    const form = await readForm(req);

    if (form.get("action") === "cancel") {
      await provider.interactionFinished(
        req,
        res,
        { error: "access_denied", error_description: "The person cancelled the sign-in." },
        { mergeWithLastSubmission: false },
      );
      return;
    }

    const email = (form.get("email") ?? "").trim();
    const password = form.get("password") ?? "";
    const entry = email && password ? await directory.verify(email, password) : undefined;
    if (!entry) {
      const clientId = String(interaction.params.client_id ?? "");
      sendHtml(res, 401, loginPage({ action, clientId, email, error: WRONG_CREDENTIALS_MESSAGE }));
      return;
    }

    // Someone else was signed in at the IdP in this browser: start a fresh IdP session rather
    // than let oidc-provider ask the browser to confirm a sign-out first.
    const previous = interaction.session;
    if (previous && previous.accountId !== entry.sub) {
      delete interaction.session;
      await interaction.persist();
      if (previous.uid) await (await provider.Session.findByUid(previous.uid))?.destroy();
    }

    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: entry.sub, amr: ["pwd"], remember: false } },
      { mergeWithLastSubmission: false },
    );
  }

  return { show, submit };
}
