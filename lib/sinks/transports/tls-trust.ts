import { X509Certificate } from "node:crypto";
import { rootCertificates } from "node:tls";
import { SinkDeliveryError } from "../types";

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * The CAs a sink's TLS connection trusts: the system's roots plus the sink's own PEM CA
 * certificate(s), if any. Node's `ca` option replaces the roots rather than adding to them,
 * hence the explicit list. A CA that does not parse is refused here with a clear message:
 * node:tls would silently ignore it and then fail every handshake with "unable to verify".
 */
export function trustedCas(caCertificate: string | null | undefined): string[] | undefined {
  if (caCertificate === null || caCertificate === undefined || caCertificate.trim() === "") return undefined;
  const blocks = caCertificate.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) {
    throw new SinkDeliveryError("The sink's CA certificate is not a PEM certificate (-----BEGIN CERTIFICATE-----).", false);
  }
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch {
      throw new SinkDeliveryError("The sink's CA certificate could not be read: one of its PEM blocks is damaged.", false);
    }
  }
  return [...rootCertificates, ...blocks];
}
