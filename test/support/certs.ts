// TLS material made on the spot with openssl: a CA, a server certificate for 127.0.0.1, client certificates.
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { runOk } from './exec.js';
import { tempDir } from './paths.js';

export interface CertPair {
  cert: string;
  key: string;
}

export interface TestPki {
  dir: string;
  /** The CA's certificate (ca.pem) and key. */
  ca: CertPair;
  /** Signed by the CA, for 127.0.0.1 and localhost. */
  server: CertPair;
  /** Signed by the CA, for client authentication. */
  client: CertPair;
}

const DAYS = '2';

async function selfSignedCa(dir: string, name: string): Promise<CertPair> {
  const pair = { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}-key.pem`) };
  await runOk('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', pair.key, '-out', pair.cert, '-days', DAYS, '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return pair;
}

async function signed(dir: string, name: string, ca: CertPair, extensions: string): Promise<CertPair> {
  const pair = { cert: path.join(dir, `${name}-cert.pem`), key: path.join(dir, `${name}-key.pem`) };
  const csr = path.join(dir, `${name}.csr`);
  const ext = path.join(dir, `${name}.ext`);
  writeFileSync(ext, extensions);
  await runOk('openssl', [
    'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', pair.key, '-out', csr, '-subj', `/CN=${name}`,
  ]);
  await runOk('openssl', [
    'x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial',
    '-out', pair.cert, '-days', DAYS, '-extfile', ext,
  ]);
  return pair;
}

/** A CA with a server and a client certificate, as `docker --tlsverify` setups use. */
export async function makePki(caName = 'lading-test-ca'): Promise<TestPki> {
  const dir = tempDir('pki');
  const ca = await selfSignedCa(dir, caName);
  const server = await signed(dir, 'server', ca, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  const client = await signed(dir, 'client', ca, 'extendedKeyUsage=clientAuth\n');
  return { dir, ca, server, client };
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
