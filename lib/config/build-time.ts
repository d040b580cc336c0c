// Values Next.js fixes when it bundles (it replaces these literal `process.env.X` expressions at
// build time, per bundle), so they are constants of the build, not settings of a deployment.
// Kept here, free of imports, so any bundle (proxy, instrumentation, a client component) can
// use them. A NEXT_PUBLIC_* value belongs here too, read as a literal `process.env.NEXT_PUBLIC_X`:
// Next inlines only that exact form.

/** A development build (`next dev`): the page CSP allows what React's dev tooling needs. */
export const DEVELOPMENT_BUILD = process.env.NODE_ENV === "development";

/** Whether this code runs in Next's Node.js runtime (not the edge runtime). */
export function inNodeRuntime(): boolean {
  return process.env.NEXT_RUNTIME === "nodejs";
}
