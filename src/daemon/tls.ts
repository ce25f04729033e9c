import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type TlsOptions } from 'node:tls';
import { InvalidArgumentError } from '../errors.js';
import type { ListenerTls } from './security-options.js';

/**
 * The HTTPS options of a TLS listener, read and checked once at start, as go-connections'
 * tlsconfig.Server does for dockerd: TLS 1.2 at least, the server's key pair, and with `verify`
 * the CA that client certificates must chain to (only that CA: no system roots). A client without
 * such a certificate fails the handshake.
 */
export function loadTlsOptions(settings: ListenerTls): TlsOptions {
  const fail = (message: string, cause?: unknown): never => {
    throw new InvalidArgumentError(`invalid TLS configuration: ${message}`, { cause });
  };
  let ca: Buffer | undefined;
  if (settings.verify) {
    try {
      ca = readFileSync(settings.caFile);
    } catch (err) {
      fail(`Could not read CA certificate ${JSON.stringify(settings.caFile)}: ${(err as Error).message}`, err);
    }
    if (!ca || certificates(ca) === 0) fail(`failed to append certificates from PEM file: ${JSON.stringify(settings.caFile)}`);
  }
  let cert: Buffer | undefined;
  let key: Buffer | undefined;
  try {
    if (settings.certFile === '' || settings.keyFile === '') throw new Error('a certificate and a key are required (--tlscert, --tlskey)');
    cert = readFileSync(settings.certFile);
    key = readFileSync(settings.keyFile);
  } catch (err) {
    fail(
      `Could not load X509 key pair (cert: ${JSON.stringify(settings.certFile)}, key: ${JSON.stringify(settings.keyFile)}): ${(err as Error).message}`,
      err,
    );
  }
  const options: TlsOptions = {
    cert,
    key,
    minVersion: 'TLSv1.2',
    requestCert: settings.verify,
    rejectUnauthorized: settings.verify,
    ...(ca ? { ca } : {}),
  };
  try {
    // Refuses a key that does not match the certificate, unreadable PEM, a bad CA file.
    createSecureContext(options);
  } catch (err) {
    fail(`Could not load X509 key pair (cert: ${JSON.stringify(settings.certFile)}, key: ${JSON.stringify(settings.keyFile)}): ${(err as Error).message}`, err);
  }
  return options;
}

/** How many PEM certificates parse in `pem`. */
function certificates(pem: Buffer): number {
  const blocks = pem.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  let n = 0;
  for (const block of blocks) {
    try {
      new X509Certificate(block);
      n++;
    } catch {
      // Go's AppendCertsFromPEM skips what does not parse.
    }
  }
  return n;
}
