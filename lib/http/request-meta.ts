// What Custody knows about the request behind an action, for the audit trail. The server in
// front of Next (scripts/server.ts) sets these headers itself and drops any a client sent.

export const CLIENT_IP_HEADER = "x-custody-client-ip";
export const REQUEST_ID_HEADER = "x-request-id";

export type RequestMeta = {
  sourceIp: string | null;
  userAgent: string | null;
  requestId: string | null;
};

export const NO_REQUEST: RequestMeta = { sourceIp: null, userAgent: null, requestId: null };

const MAX_USER_AGENT = 512;

export function requestMetaFromHeaders(headers: { get(name: string): string | null }): RequestMeta {
  return {
    sourceIp: headers.get(CLIENT_IP_HEADER),
    userAgent: headers.get("user-agent")?.slice(0, MAX_USER_AGENT) ?? null,
    requestId: headers.get(REQUEST_ID_HEADER),
  };
}
