import "server-only";
import { headers } from "next/headers";
import { type RequestMeta, requestMetaFromHeaders } from "./request-meta";

/** The current request's metadata, inside a server component, server action or route handler. */
export async function currentRequestMeta(): Promise<RequestMeta> {
  return requestMetaFromHeaders(await headers());
}
