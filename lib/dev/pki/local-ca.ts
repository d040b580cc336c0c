import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

// A local certificate authority for the development servers that must speak TLS (the
// development Vault; clients such as Azure's insist on https): a CA and one server certificate
// for loopback names, made with the openssl command line and kept in a folder, so the demo's
// clients can trust the CA (its PEM) across restarts. Remade when missing, expiring within a
// day, or not naming the hosts asked for. Development only: the CA's private key sits beside it.

export type LocalCa = {
  caPem: string;
  certPem: string;
  keyPem: string;
  /** Path of the CA certificate, for clients configured by file (e.g. VAULT_CACERT). */
  caPath: string;
};

const DEFAULT_NAMES = ["DNS:localhost", "IP:127.0.0.1", "IP:0:0:0:0:0:0:0:1"];
const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
const DAY_MS = 86_400_000;

/** The CA and server certificate in `dir` (made or remade as needed) for `names` (subjectAltName entries). */
export function ensureLocalCa(dir: string, names: readonly string[] = DEFAULT_NAMES): LocalCa {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = { ca: path.join(dir, "ca.pem"), caKey: path.join(dir, "ca.key"), cert: path.join(dir, "server.pem"), key: path.join(dir, "server.key") };
  const existing = readAll(files);
  if (existing && stillGood(existing.caPem, existing.certPem, names)) return { ...existing, caPath: files.ca };
  for (const file of Object.values(files)) rmSync(file, { force: true });
  const run = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  try {
    run(["req", "-x509", ...EC, "-keyout", files.caKey, "-out", files.ca, "-days", "365", "-subj", "/CN=Custody development CA",
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    const csr = path.join(dir, "server.csr");
    const ext = path.join(dir, "server.ext");
    run(["req", ...EC, "-keyout", files.key, "-out", csr, "-subj", "/CN=localhost"]);
    writeFileSync(ext, `subjectAltName=${names.join(",")}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`);
    run(["x509", "-req", "-in", csr, "-CA", files.ca, "-CAkey", files.caKey, "-set_serial", `0x${Date.now().toString(16)}`, "-out", files.cert, "-days", "364", "-extfile", ext]);
    rmSync(csr, { force: true });
    rmSync(ext, { force: true });
  } catch (error) {
    const detail = (error as { stderr?: Buffer }).stderr?.toString("utf8").trim().split("\n")[0];
    throw new Error(`Could not make the development CA in ${dir} with openssl${detail ? `: ${detail}` : ""}`);
  }
  const made = readAll(files);
  if (!made) throw new Error(`Could not read the development CA just made in ${dir}`);
  return { ...made, caPath: files.ca };
}

function readAll(files: { ca: string; cert: string; key: string }): Omit<LocalCa, "caPath"> | undefined {
  try {
    return { caPem: readFileSync(files.ca, "utf8"), certPem: readFileSync(files.cert, "utf8"), keyPem: readFileSync(files.key, "utf8") };
  } catch {
    return undefined;
  }
}

function stillGood(caPem: string, certPem: string, names: readonly string[]): boolean {
  try {
    const ca = new X509Certificate(caPem);
    const cert = new X509Certificate(certPem);
    const soon = Date.now() + DAY_MS;
    if (Date.parse(ca.validTo) < soon || Date.parse(cert.validTo) < soon || !cert.checkIssued(ca)) return false;
    const san = (cert.subjectAltName ?? "").split(",").map((s) => s.trim().replace(/^IP Address:/, "IP:"));
    return names.every((name) => san.includes(name));
  } catch {
    return false;
  }
}
