import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

// A throw-away certificate authority and a server certificate for "localhost" / 127.0.0.1,
// made with the openssl CLI, for tests that need real TLS receivers.

export type TestPki = {
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  caPath: string;
  serverCertPath: string;
  serverKeyPath: string;
};

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/**
 * Writes `<name>-ca.pem`, `<name>-server.pem` and `<name>-server.key` into `dir`; the server
 * certificate names `subjectAltName` (by default localhost and 127.0.0.1).
 */
export function makeTestPki(dir: string, name: string, subjectAltName = "DNS:localhost,IP:127.0.0.1"): TestPki {
  const file = (suffix: string) => path.join(dir, `${name}-${suffix}`);
  openssl(dir, [
    "req", "-x509", ...EC, "-keyout", file("ca.key"), "-out", file("ca.pem"), "-days", "2",
    "-subj", `/CN=Custody test CA ${name}`,
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  openssl(dir, ["req", ...EC, "-keyout", file("server.key"), "-out", file("server.csr"), "-subj", "/CN=localhost"]);
  writeFileSync(
    file("ext.cnf"),
    `subjectAltName=${subjectAltName}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`,
  );
  openssl(dir, [
    "x509", "-req", "-in", file("server.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-CAcreateserial",
    "-out", file("server.pem"), "-days", "2", "-extfile", file("ext.cnf"),
  ]);
  return {
    caPem: readFileSync(file("ca.pem"), "utf8"),
    serverCertPem: readFileSync(file("server.pem"), "utf8"),
    serverKeyPem: readFileSync(file("server.key"), "utf8"),
    caPath: file("ca.pem"),
    serverCertPath: file("server.pem"),
    serverKeyPath: file("server.key"),
  };
}
