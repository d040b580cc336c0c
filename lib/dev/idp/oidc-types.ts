import type { IncomingMessage, ServerResponse } from "node:http";
// @ts-expect-error -- oidc-provider ships no type declarations (@types/oidc-provider is not installed); the few shapes used here are declared below.
import { Provider as UntypedProvider, interactionPolicy as untypedInteractionPolicy } from "oidc-provider";

// The parts of oidc-provider the dev IdP uses (it has no type declarations of its own).

export type OidcContext = {
  oidc: {
    result?: { login?: unknown; consent?: { grantId?: string } };
    session: { accountId?: string; grantIdFor(clientId: string): string | undefined };
    client?: { clientId: string };
    requestParamOIDCScopes: Set<string>;
  };
  host: string;
  type: string;
  status: number;
  body: unknown;
};

export type Grant = {
  accountId?: string;
  clientId?: string;
  addOIDCScope(scope: string): void;
  save(): Promise<string>;
};

export type Interaction = {
  uid: string;
  exp: number;
  prompt: { name: string };
  params: Record<string, unknown>;
  session?: { accountId: string; uid?: string };
  persist(): Promise<unknown>;
};

export type Account = { accountId: string; claims: () => Promise<Record<string, unknown>> };

export interface OidcProvider {
  proxy: boolean;
  callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    options?: { mergeWithLastSubmission?: boolean },
  ): Promise<void>;
  on(event: "server_error", listener: (ctx: unknown, error: unknown) => void): unknown;
  Grant: { new (init: { accountId: string; clientId: string }): Grant; find(id: string): Promise<Grant | undefined> };
  Session: { findByUid(uid: string): Promise<{ destroy(): Promise<void> } | undefined> };
}

type Check = { readonly brand?: never };
type InteractionPolicy = Array<{ name: string }> & {
  get(name: string): { checks: { add(check: Check): void } } | undefined;
};

export const Provider = UntypedProvider as new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;
export const interactionPolicy = untypedInteractionPolicy as {
  base(): InteractionPolicy;
  Check: {
    new (reason: string, description: string, error: string, check: (ctx: OidcContext) => boolean): Check;
    REQUEST_PROMPT: boolean;
    NO_NEED_TO_PROMPT: boolean;
  };
};
