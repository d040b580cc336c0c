import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import path from "node:path";
import { errorFields, log } from "@/lib/log";
import { internalError, KmsError, unknownOperation } from "./errors";
import { ConnectionResetFault, FaultInjector, type DevKmsFaults } from "./faults";
import { Fields } from "./fields";
import { OPERATIONS } from "./operations";
import { parseIdentityPolicy } from "./policy";
import { loadPrincipals, loadRoles, type DevKmsPrincipalConfig, type DevKmsRoleConfig, type Principal, type Role } from "./principals";
import { Propagation } from "./propagation";
import { BodyTooLargeError, operationName, parseJsonBody, readBody, sendError, sendResult } from "./protocol";
import { isSessionAccessKeyId, readSession } from "./sessions";
import { authenticate, staticCallers, type ResolveCaller } from "./sigv4";
import { isStsRequest, runSts, sendStsError, sendStsResult, sessionArn, stsErrorOf, StsError } from "./sts";
import { KeyStore } from "./store";

// The development KMS: an HTTP server that speaks enough of the AWS KMS JSON API, with SigV4
// authentication, key policies, grants and key states, that the AWS SDK cannot tell it from
// KMS for the operations Custody uses. Demo mode and the tests start it; Custody's AWS
// provider reaches it only through the endpoint setting. Not for production: it holds key
// material in a local folder, encrypted under a master key kept beside it.
//
// A request goes: read the body (bounded) → verify the SigV4 signature (sigv4.ts) → find the
// operation (protocol.ts) → apply injected faults (faults.ts) → run the operation
// (operations/), which validates its input (fields.ts), resolves keys (key-refs.ts),
// authorises the caller (access.ts: key policy, IAM flag, grants), checks the key state and
// changes the store (store.ts) → JSON result or AWS-shaped error. A form-encoded request is
// an STS call instead (sts.ts: AssumeRole, GetCallerIdentity), signed for "sts"; the
// temporary credentials it issues are accepted by both APIs until they expire (sessions.ts).

export type DevKmsOptions = {
  /** Port to listen on; 0 picks a free one (the endpoint says which). */
  port: number;
  /** Interface to listen on; loopback (127.0.0.1) when omitted, since the credentials are well known. */
  host?: string;
  /** Folder for the encrypted key store (and the master key file unless `masterKey` is given). */
  dataDir: string;
  /** The AWS account (12 digits) whose keys this server holds. */
  accountId: string;
  /** Access key id → secret, IAM ARN and whether its IAM policies allow all KMS actions. */
  principals: Record<string, DevKmsPrincipalConfig>;
  /** IAM roles by ARN that principals may assume through the STS API (trust and identity policies). */
  roles?: Record<string, DevKmsRoleConfig>;
  /** 32-byte master key for the store; by default read from (or created in) <dataDir>/master.key. */
  masterKey?: Buffer;
  /**
   * How long new grants and changed key or identity policies take to take effect (AWS: usually
   * seconds, up to about five minutes). 0 (the default): at once. See propagation.ts.
   */
  propagationDelayMs?: number;
  /** The clock requests are decided by (epoch ms); Date.now by default. Tests inject one. */
  clock?: () => number;
};

export type DevKms = {
  /** e.g. http://127.0.0.1:4566: the KMSClient `endpoint`. */
  endpoint: string;
  close(): Promise<void>;
  /** Makes the next requests fail with ThrottlingException, or slow. In-process only. */
  faults: DevKmsFaults;
  /** Authenticated requests received so far, by operation (e.g. { Decrypt: 3 }), throttled ones included. */
  calls(): Record<string, number>;
  /**
   * Replaces the identity (IAM) policy of every principal (or the role) with this ARN: an IAM policy
   * document, or undefined for none. Subject to the propagation delay. In-process only.
   */
  setIdentityPolicy(principalArn: string, policy: string | object | undefined): void;
  /** Changes the propagation delay for changes made from now on. In-process only. */
  setPropagationDelay(ms: number): void;
};

export type { DevKmsFaults } from "./faults";
export type { DevKmsPrincipalConfig } from "./principals";

const logger = log.child({ component: "dev-kms" });

/** Starts the development KMS; resolves once it is listening. Throws if the store cannot be opened. */
export async function startDevKms(options: DevKmsOptions): Promise<DevKms> {
  if (!/^\d{12}$/.test(options.accountId)) throw new Error("The dev KMS accountId must be 12 digits");
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) throw new Error("The dev KMS port must be 0-65535");
  const principals = loadPrincipals(options.principals);
  const roles = loadRoles(options.roles ?? {});
  const host = options.host ?? "127.0.0.1";
  const store = KeyStore.open(path.resolve(options.dataDir), options.masterKey);
  const faults = new FaultInjector();
  const propagation = new Propagation();
  propagation.setDelay(options.propagationDelayMs ?? 0);
  const clock = options.clock ?? Date.now;
  const calls: Record<string, number> = {};
  let closing = false;
  const longTerm = staticCallers(principals);
  const resolveCaller: ResolveCaller = (accessKeyId, sessionToken, now) =>
    isSessionAccessKeyId(accessKeyId) ? sessionCaller(roles, readSession(store.sessionKey, accessKeyId, sessionToken, now)) : longTerm(accessKeyId, sessionToken, now);

  async function handleSts(req: IncomingMessage, res: ServerResponse, body: Buffer, requestId: string): Promise<void> {
    try {
      const now = clock();
      const { principal } = await authenticate(
        { method: req.method ?? "", url: req.url ?? "/", headers: req.headersDistinct, body },
        resolveCaller,
        new Date(now),
        "sts",
      );
      const params = new URLSearchParams(body.toString("utf8"));
      const action = params.get("Action") ?? "-";
      calls[`sts:${action}`] = (calls[`sts:${action}`] ?? 0) + 1;
      sendStsResult(res, requestId, runSts({ caller: principal, params, roles, sessionKey: store.sessionKey, now, propagation, requestId }));
    } catch (error) {
      if (!(error instanceof StsError || error instanceof KmsError)) throw error;
      const stsError = error instanceof StsError ? error : stsErrorOf(error);
      logger.debug({ requestId, error: stsError.code }, "dev STS request refused");
      sendStsError(res, requestId, stsError);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    let operation = "-";
    try {
      const body = await readBody(req);
      if (isStsRequest(req)) return await handleSts(req, res, body, requestId);
      const now = new Date(clock());
      const { principal, region } = await authenticate(
        { method: req.method ?? "", url: req.url ?? "/", headers: req.headersDistinct, body },
        resolveCaller,
        now,
      );
      operation = operationName(req);
      calls[operation] = (calls[operation] ?? 0) + 1;
      const run = OPERATIONS.get(operation);
      if (!run) throw unknownOperation(`The development KMS does not implement ${operation}.`);
      await faults.apply(operation, req.socket);
      if (closing) {
        // A delayed request outlived close(): it must not touch a store that is closed.
        res.destroy();
        return;
      }
      store.purgeDeletedKeys(now.getTime());
      const output = run({
        accountId: options.accountId,
        caller: principal,
        region,
        fields: new Fields(parseJsonBody(body)),
        store,
        now: now.getTime(),
        propagation,
      });
      sendResult(res, requestId, output);
      logger.debug({ requestId, operation, principal: principal.arn }, "dev KMS request");
    } catch (error) {
      // An injected reset: the connection is gone, there is no one to answer.
      if (error instanceof ConnectionResetFault) return;
      const kmsError =
        error instanceof KmsError
          ? error
          : error instanceof BodyTooLargeError
            ? new KmsError("RequestEntityTooLargeException", "The request body is too large.", 413)
            : undefined;
      if (kmsError) {
        logger.debug({ requestId, operation, error: kmsError.code }, "dev KMS request refused");
        sendError(res, requestId, kmsError);
      } else {
        logger.error({ requestId, operation, ...errorFields(error) }, "dev KMS request failed");
        sendError(res, requestId, internalError());
      }
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error(errorFields(error), "dev KMS could not answer a request");
      res.destroy();
    });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) =>
        reject(
          new Error(
            error.code === "EADDRINUSE"
              ? `The dev KMS could not listen on port ${options.port}: it is already in use`
              : `The dev KMS could not start: ${error.message}`,
          ),
        ),
      );
      server.listen(options.port, host, () => resolve());
    });
  } catch (error) {
    store.close();
    throw error;
  }

  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  let closed: Promise<void> | undefined;
  return {
    endpoint: `http://${urlHost(host)}:${port}`,
    faults,
    calls: () => ({ ...calls }),
    setIdentityPolicy(principalArn, policy) {
      const parsed = policy === undefined ? undefined : parseIdentityPolicy(policy);
      const matching: Array<Principal | Role> = [...principals.values()].filter((p) => p.arn === principalArn);
      const role = roles.get(principalArn);
      if (role) matching.push(role);
      if (matching.length === 0) throw new Error(`The dev KMS has no principal or role ${principalArn}`);
      propagation.identityChanged(principalArn, matching[0]!.identityPolicy, clock());
      for (const principal of matching) principal.identityPolicy = parsed;
    },
    setPropagationDelay: (ms) => propagation.setDelay(ms),
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        closing = true;
        faults.cancelDelays();
        server.close((error) => {
          store.close();
          if (error) reject(error);
          else resolve();
        });
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

/** The caller a session's requests are made as: the role, named as its session. */
function sessionCaller(roles: ReadonlyMap<string, Role>, session: ReturnType<typeof readSession>): Principal {
  const role = roles.get(session.roleArn);
  if (!role) throw new KmsError("UnrecognizedClientException", "The security token included in the request is invalid.");
  return {
    accessKeyId: session.accessKeyId,
    secretAccessKey: session.secretAccessKey,
    arn: sessionArn(role, session.sessionName),
    principalArn: role.arn,
    accountId: role.accountId,
    admin: role.admin,
    identityPolicy: role.identityPolicy,
  };
}

/** The host to put in the endpoint URL: a wildcard address is reached through loopback. */
function urlHost(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}
