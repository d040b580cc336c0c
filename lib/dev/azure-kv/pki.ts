import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

// The development Key Vault's TLS: Azure's clients speak only HTTPS, so the server needs a
// certificate they trust. A local certificate authority (made once per data folder with the
// openssl CLI, valid 30 days, remade when it is about to expire) signs one server certificate
// for localhost (the token endpoint) and every vault and Managed HSM under *.vault.localhost and
// *.managedhsm.localhost. Custody trusts the CA through its CA-bundle setting
// (KMS_AZURE_CA_FILE), exactly as a deployment behind a TLS-inspecting proxy would.

export type DevAzurePki = { caPem: string; caPath: string; certPem: string; keyPem: string };

export const DEV_AZURE_DOMAIN = "localhost";

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
const DAYS = 30;

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

function stillValid(certPath: string): boolean {
  try {
    // -checkend: exits non-zero when the certificate expires within the next two days.
    execFileSync("openssl", ["x509", "-in", certPath, "-noout", "-checkend", String(2 * 86400)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Reads the CA and server certificate from `dir`, making them when missing or near expiry. */
export function ensureDevAzurePki(dir: string): DevAzurePki {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = (name: string) => path.join(dir, name);
  if (!existsSync(file("server.pem")) || !stillValid(file("server.pem")) || !stillValid(file("ca.pem"))) {
    openssl(dir, [
      "req", "-x509", ...EC, "-keyout", file("ca.key"), "-out", file("ca.pem"), "-days", String(DAYS),
      "-subj", "/CN=Custody development Azure CA",
      "-addext", "basicConstraints=critical,CA:TRUE",
      "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(dir, ["req", ...EC, "-keyout", file("server.key"), "-out", file("server.csr"), "-subj", "/CN=localhost"]);
    const d = DEV_AZURE_DOMAIN;
    writeFileSync(
      file("server.cnf"),
      `subjectAltName=DNS:${d},DNS:*.vault.${d},DNS:*.managedhsm.${d},IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`,
    );
    openssl(dir, [
      "x509", "-req", "-in", file("server.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-CAcreateserial",
      "-out", file("server.pem"), "-days", String(DAYS), "-extfile", file("server.cnf"),
    ]);
  }
  return {
    caPem: readFileSync(file("ca.pem"), "utf8"),
    caPath: file("ca.pem"),
    certPem: readFileSync(file("server.pem"), "utf8"),
    keyPem: readFileSync(file("server.key"), "utf8"),
  };
}
