import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

// Access tokens of the development Entra: JWTs signed with a secret that lives only in the
// server process (HS256), so only tokens this server issued are accepted, and each names the
// app (appid), its tenant (tid) and the resource it is for (aud), as Entra's do.

export type TokenClaims = { aud: string; tid: string; appid: string; iat: number; nbf: number; exp: number; iss: string };

export class TokenSigner {
  private readonly secret = randomBytes(32);

  sign(claims: TokenClaims): string {
    const head = b64(JSON.stringify({ alg: "HS256", typ: "JWT" }));
    const body = b64(JSON.stringify(claims));
    return `${head}.${body}.${this.mac(`${head}.${body}`)}`;
  }

  /** The claims of a token this server signed, or undefined. */
  verify(token: string): TokenClaims | undefined {
    const [head, body, mac] = token.split(".");
    if (!head || !body || !mac) return undefined;
    const expected = Buffer.from(this.mac(`${head}.${body}`));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    try {
      return JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as TokenClaims;
    } catch {
      return undefined;
    }
  }

  private mac(data: string): string {
    return createHmac("sha256", this.secret).update(data).digest("base64url");
  }
}

function b64(text: string): string {
  return Buffer.from(text).toString("base64url");
}
