import type { IncomingMessage, ServerResponse } from "node:http";

// The dev IdP's pages: server-rendered HTML, one small inline stylesheet, no scripts; and the
// one form it reads.

export const DEV_IDP_BANNER = "Custody development identity provider — not for production";
export const WRONG_CREDENTIALS_MESSAGE = "Wrong email or password.";

export function escapeHtml(value: unknown): string {
  return String(value ?? "")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

const STYLES = `
*,*::before,*::after{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;padding:24px;
  background:#f1f5f9;color:#0f172a;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{width:100%;max-width:380px;background:#fff;border:1px solid #e2e8f0;border-radius:12px;
  padding:28px;box-shadow:0 1px 3px rgba(15,23,42,.08)}
.banner{margin:0 0 20px;padding:8px 10px;border-radius:6px;background:#fef3c7;color:#78350f;
  font-size:13px;font-weight:600;text-align:center}
h1{margin:0 0 4px;font-size:22px;line-height:1.3}
.lead{margin:0 0 20px;color:#475569;font-size:14px}
.error{margin:0 0 16px;padding:10px 12px;border-radius:6px;background:#fee2e2;color:#991b1b;font-size:14px}
label{display:block;margin:0 0 6px;font-size:14px;font-weight:600}
input{display:block;width:100%;margin:0 0 16px;padding:10px 12px;border:1px solid #cbd5e1;border-radius:6px;
  font:inherit;color:inherit;background:#fff}
input:focus{outline:2px solid #2563eb;outline-offset:1px;border-color:#2563eb}
button{display:block;width:100%;padding:10px 12px;border:0;border-radius:6px;background:#1e40af;color:#fff;
  font:inherit;font-weight:600;cursor:pointer}
button:hover{background:#1e3a8a}
button:focus-visible{outline:2px solid #2563eb;outline-offset:2px}
button.secondary{margin-top:10px;background:transparent;color:#334155;border:1px solid #cbd5e1}
button.secondary:hover{background:#f8fafc}
p,code{overflow-wrap:anywhere}
code{font-size:13px}
`;

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)} · Custody dev IdP</title>
<style>${STYLES}</style>
</head>
<body>
<main>
<p class="banner">${escapeHtml(DEV_IDP_BANNER)}</p>
${body}
</main>
</body>
</html>
`;
}

export function loginPage(options: { action: string; clientId: string; email: string; error?: string }): string {
  const { action, clientId, email, error } = options;
  return page(
    "Sign in",
    `<h1>Sign in</h1>
<p class="lead">to continue to <strong>${escapeHtml(clientId)}</strong></p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ""}
<form method="post" action="${escapeHtml(action)}">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required value="${escapeHtml(email)}"${email ? "" : " autofocus"}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${email ? " autofocus" : ""}>
<button type="submit">Sign in</button>
</form>
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="action" value="cancel">
<button type="submit" class="secondary">Cancel</button>
</form>`,
  );
}

export function messagePage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<p class="lead">${escapeHtml(message)}</p>`);
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "text/html; charset=utf-8");
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("Referrer-Policy", "no-referrer");
  res.setHeader("X-Content-Type-Options", "nosniff");
  // No form-action: after the form, the browser is redirected on to the application.
  res.setHeader("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'");
  res.end(html);
}

const MAX_FORM_BYTES = 16 * 1024;

export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") return new URLSearchParams();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new RangeError("form too large");
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

export function logoutPage(form: string): string {
  return page(
    "Sign out",
    `<h1>Sign out</h1>
<p class="lead">Sign out of the development identity provider?</p>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Sign out</button>
<button type="submit" form="op.logoutForm" class="secondary">Stay signed in</button>`,
  );
}

export function errorPage(out: { error?: string; error_description?: string }): string {
  return page(
    "Sign-in problem",
    `<h1>Something went wrong</h1>
<p class="lead">${escapeHtml(out.error_description ?? "The request could not be completed.")}</p>
<p><code>${escapeHtml(out.error ?? "error")}</code></p>`,
  );
}
