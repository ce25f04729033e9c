// A Docker token server (the `Bearer realm=…` side of registry auth) for tests: a small Node HTTP(S) server on
// loopback that signs JWTs the distribution registry (2.8, Debian's docker-registry) accepts, and records every
// request it receives so tests can assert scopes and where credentials went.
//
// What registry 2.8's token access controller checks (registry/auth/token/{token,accesscontroller}.go):
//   - `iss` equals auth.token.issuer, `aud` equals auth.token.service and must be a JSON *string* (2.8 unmarshals
//     it into a string field: an array makes the whole token "malformed"; v3 accepts both);
//   - `exp`/`nbf` with 60 s leeway; a non-empty signature;
//   - the signing key, found from the header in this order: `x5c` (a chain verified against the certificates of
//     rootcertbundle), `jwk`, then `kid` — a libtrust fingerprint of a public key of a rootcertbundle certificate
//     (SHA-256 of the PKIX DER, first 240 bits, base32 without padding, 12 groups of 4 joined with ':');
//   - `alg` must match the key: ES256 for P-256 (signature is r||s, 64 bytes, not DER), RS256/384/512 for RSA;
//   - every requested action must appear in `access` for the same type and name (the class is ignored).
import { randomBytes, randomUUID, createHash, createPrivateKey, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { runOk } from './exec.js';
import { tempDir } from './paths.js';

/** One entry of a token's `access` claim. */
export interface Access {
  type: string;
  class?: string;
  name: string;
  actions: string[];
}

/** What the issuer received and answered, one per request. */
export interface TokenRequestRecord {
  /** Milliseconds since the epoch. */
  at: number;
  method: string;
  /** Path without the query. */
  path: string;
  /** Path and query as received. */
  url: string;
  service: string | undefined;
  /** Every `scope` value (GET query or POST form), each split at spaces: `repository:lading/single:pull,push`. */
  scopes: string[];
  /** The scopes parsed; actions in the order the client wrote them. */
  requested: Access[];
  account: string | undefined;
  clientId: string | undefined;
  /** POST (OAuth2) only: `password`, `refresh_token`, … */
  grantType: string | undefined;
  /** GET `offline_token=true` or POST `access_type=offline`: a refresh token was asked for. */
  offline: boolean;
  /** The Authorization header exactly as received, if any. */
  authorization: string | undefined;
  /** The user named by Basic credentials, the POST form, or a refresh token; undefined when anonymous. */
  user: string | undefined;
  /** Whether the credentials presented were right; undefined when none were presented. */
  credentialsValid: boolean | undefined;
  status: number;
  /** The access put into the token (empty when refused). */
  granted: Access[];
}

export type KeyType = 'ec' | 'rsa';
/** `kid`: the header names the key by its libtrust fingerprint, the bundle holds the signing certificate itself.
 *  `x5c`: the header carries the signing certificate, issued by a token root CA that is all the bundle holds. */
export type SigningMode = 'kid' | 'x5c';

export interface TokenIssuerOptions {
  /** username → password. Default `{ lading: 'lading-secret' }`. */
  users?: Record<string, string>;
  /**
   * Requests without credentials: `deny` answers 401 (default), `empty` a token with no access (what Docker Hub does
   * for a private repository), `pull` a token granting only `pull` on the requested repositories.
   */
  anonymous?: 'deny' | 'empty' | 'pull';
  /** `aud`, to match the registry's auth.token.service. Default `lading-test-registry`. */
  service?: string;
  /** `iss`, to match the registry's auth.token.issuer. Default `lading-test-issuer`. */
  issuer?: string;
  /** Token lifetime in seconds. Default 300. */
  expiresIn?: number;
  /** Default `ec` (P-256, ES256); `rsa` is 2048-bit RS256. */
  keyType?: KeyType;
  /** Default `kid`. */
  signing?: SigningMode;
  /** Answer POST (OAuth2 password / refresh_token grants) as containerd tries first. Default true; false answers 405. */
  oauth?: boolean;
  /** Serve HTTPS with this certificate and key (PEM file paths). Default plain HTTP. */
  tls?: { cert: string; key: string };
  /** Bind address. Default 127.0.0.1. */
  host?: string;
  /** The realm's path. Default `/token`. */
  path?: string;
  /**
   * Which of the requested actions an authenticated (or, with anonymous `pull`, anonymous) caller gets.
   * Default: authenticated users get everything they ask for; anonymous `pull` gets only `pull`.
   */
  policy?: (user: string | undefined, requested: Access) => string[];
}

/** Key and certificates for signing tokens, made once per key type and process with openssl. */
export interface SigningMaterial {
  keyType: KeyType;
  /** PEM files. */
  keyPath: string;
  certPath: string;
  /** The root CA that issued certPath (used by `x5c`). */
  rootCertPath: string;
  /** libtrust fingerprint of the signing key: the `kid` registry 2.8 looks up. */
  kid: string;
  /** base64 (standard, padded) DER of the signing certificate, for `x5c`. */
  x5c: string[];
}

const OPENSSL_CNF = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = lading-test
[root_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
[signer_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

function newKeyArgs(type: KeyType): string[] {
  return type === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
}

/** libtrust's KeyID: SHA-256 of the PKIX DER public key, first 30 bytes, base32, groups of 4 joined by ':'. */
export function libtrustKeyId(certPem: string | Buffer): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  const sum = createHash('sha256').update(spki).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let s = '';
  for (const byte of sum) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      s += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  // 240 bits make exactly 48 base32 characters: no padding, no leftover bits.
  return s.match(/.{4}/g)!.join(':');
}

const materials = new Map<KeyType, Promise<SigningMaterial>>();

/** The process-wide signing key and certificates for `keyType` (about 50 ms for EC, 0.3 s for RSA, once). */
export function signingMaterial(keyType: KeyType = 'ec'): Promise<SigningMaterial> {
  let p = materials.get(keyType);
  if (!p) {
    p = makeSigningMaterial(keyType);
    materials.set(keyType, p);
    p.catch(() => materials.delete(keyType));
  }
  return p;
}

async function makeSigningMaterial(keyType: KeyType): Promise<SigningMaterial> {
  const dir = path.join(tempDir('token-keys'), keyType);
  mkdirSync(dir, { recursive: true });
  const cnf = path.join(dir, 'openssl.cnf');
  writeFileSync(cnf, OPENSSL_CNF);
  const rootKey = path.join(dir, 'root.key');
  const rootCert = path.join(dir, 'root.crt');
  const keyPath = path.join(dir, 'signer.key');
  const certPath = path.join(dir, 'signer.crt');
  const env = { ...process.env, OPENSSL_CONF: cnf };
  await runOk('openssl', [
    'req', '-x509', '-config', cnf, '-extensions', 'root_ext', ...newKeyArgs(keyType), '-nodes',
    '-keyout', rootKey, '-out', rootCert, '-days', '3650', '-subj', '/CN=Lading Test Token Root',
  ], { env });
  await runOk('openssl', [
    'req', '-x509', '-config', cnf, '-extensions', 'signer_ext', '-CA', rootCert, '-CAkey', rootKey,
    ...newKeyArgs(keyType), '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '3650',
    '-subj', '/CN=Lading Test Token Signer',
  ], { env });
  const pem = readFileSync(certPath);
  return {
    keyType,
    keyPath,
    certPath,
    rootCertPath: rootCert,
    kid: libtrustKeyId(pem),
    x5c: [new X509Certificate(pem).raw.toString('base64')],
  };
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** Parses `type[(class)]:name:actions`; a name may hold ':' only in theory, the actions are after the last one. */
export function parseScope(scope: string): Access | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return undefined;
  const typeField = scope.slice(0, first);
  const m = /^([a-z0-9]+)(?:\(([^)]*)\))?$/i.exec(typeField);
  if (!m) return undefined;
  const access: Access = {
    type: m[1]!,
    name: scope.slice(first + 1, last),
    actions: scope.slice(last + 1).split(',').filter((a) => a !== ''),
  };
  if (m[2] !== undefined) access.class = m[2];
  return access;
}

function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  if (!header) return undefined;
  const m = /^basic\s+(\S+)$/i.exec(header.trim());
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { user: decoded, password: '' };
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

export class TokenIssuer {
  readonly requests: TokenRequestRecord[] = [];
  readonly service: string;
  readonly issuer: string;
  readonly users: Record<string, string>;
  private readonly refreshTokens = new Map<string, string>();
  private readonly privateKey: KeyObject;
  private readonly alg: string;
  private failures: Array<{ status: number }> = [];

  private constructor(
    private readonly server: http.Server,
    private readonly opts: TokenIssuerOptions,
    readonly material: SigningMaterial,
    readonly signing: SigningMode,
  ) {
    this.service = opts.service ?? 'lading-test-registry';
    this.issuer = opts.issuer ?? 'lading-test-issuer';
    this.users = opts.users ?? { lading: 'lading-secret' };
    this.privateKey = createPrivateKey(readFileSync(material.keyPath));
    this.alg = material.keyType === 'ec' ? 'ES256' : 'RS256';
  }

  static async start(opts: TokenIssuerOptions = {}): Promise<TokenIssuer> {
    const material = await signingMaterial(opts.keyType ?? 'ec');
    const server = opts.tls
      ? https.createServer({ cert: readFileSync(opts.tls.cert), key: readFileSync(opts.tls.key) })
      : http.createServer();
    const issuer = new TokenIssuer(server, opts, material, opts.signing ?? 'kid');
    server.on('request', (req, res) => {
      issuer.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(String(err));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, opts.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return issuer;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get host(): string {
    return `${this.opts.host ?? '127.0.0.1'}:${this.port}`;
  }

  /** The realm URL to configure in the registry. */
  get realm(): string {
    return `${this.opts.tls ? 'https' : 'http'}://${this.host}${this.opts.path ?? '/token'}`;
  }

  /** The PEM file the registry's auth.token.rootcertbundle must point at for this signing mode. */
  get rootCertBundle(): string {
    return this.signing === 'kid' ? this.material.certPath : this.material.rootCertPath;
  }

  /** The next `count` token requests answer `status` (an `errors` JSON body) before anything else. */
  failNext(count: number, status = 500): void {
    for (let i = 0; i < count; i++) this.failures.push({ status });
  }

  /** Forget recorded requests. */
  reset(): void {
    this.requests.length = 0;
  }

  /** Every scope requested so far, in order. */
  scopes(): string[] {
    return this.requests.flatMap((r) => r.scopes);
  }

  /** A signed token for `user` with `access`, as the issuer would hand out. */
  mint(user: string | undefined, access: Access[], opts: { expiresIn?: number; audience?: string; issuer?: string } = {}): string {
    const now = Math.floor(Date.now() / 1000);
    const header: Record<string, unknown> = { typ: 'JWT', alg: this.alg };
    if (this.signing === 'kid') header.kid = this.material.kid;
    else header.x5c = this.material.x5c;
    const claims = {
      iss: opts.issuer ?? this.issuer,
      sub: user ?? '',
      aud: opts.audience ?? this.service,
      exp: now + (opts.expiresIn ?? this.opts.expiresIn ?? 300),
      nbf: now - 1,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature =
      this.material.keyType === 'ec'
        ? sign('sha256', Buffer.from(input), { key: this.privateKey, dsaEncoding: 'ieee-p1363' })
        : sign('sha256', Buffer.from(input), this.privateKey);
    return `${input}.${b64url(signature)}`;
  }

  private grant(user: string | undefined, requested: Access[]): Access[] {
    const policy =
      this.opts.policy ??
      ((u: string | undefined, r: Access) => (u !== undefined ? r.actions : r.actions.filter((a) => a === 'pull')));
    return requested
      .map((r) => ({ ...r, actions: policy(user, r) }))
      .filter((r) => r.actions.length > 0);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://issuer.invalid');
    const record: TokenRequestRecord = {
      at: Date.now(),
      method: req.method ?? '',
      path: url.pathname,
      url: req.url ?? '',
      service: undefined,
      scopes: [],
      requested: [],
      account: undefined,
      clientId: undefined,
      grantType: undefined,
      offline: false,
      authorization: req.headers.authorization,
      user: undefined,
      credentialsValid: undefined,
      status: 0,
      granted: [],
    };
    this.requests.push(record);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      const text = JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };
    const error = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
      reply(status, { errors: [{ code, message, detail: null }] }, headers);

    let params: URLSearchParams;
    if (req.method === 'GET') {
      params = url.searchParams;
      record.offline = params.get('offline_token') === 'true';
    } else if (req.method === 'POST') {
      params = new URLSearchParams((await readBody(req)).toString('utf8'));
      record.grantType = params.get('grant_type') ?? undefined;
      record.offline = params.get('access_type') === 'offline';
    } else {
      await readBody(req);
      return error(405, 'UNSUPPORTED', `method ${req.method} not allowed`, { Allow: 'GET, POST' });
    }
    record.service = params.get('service') ?? undefined;
    record.account = params.get('account') ?? undefined;
    record.clientId = params.get('client_id') ?? undefined;
    record.scopes = params.getAll('scope').flatMap((s) => s.split(' ').filter((x) => x !== ''));
    record.requested = record.scopes.map(parseScope).filter((a): a is Access => a !== undefined);

    const failure = this.failures.shift();
    if (failure) return error(failure.status, 'UNKNOWN', 'injected token server failure');
    if (url.pathname !== (this.opts.path ?? '/token')) return error(404, 'NOT_FOUND', 'no such endpoint');
    if (req.method === 'POST' && this.opts.oauth === false) {
      return error(405, 'UNSUPPORTED', 'POST not supported', { Allow: 'GET' });
    }
    if (record.service !== undefined && record.service !== this.service) {
      return error(400, 'INVALID_REQUEST', `unknown service ${JSON.stringify(record.service)}`);
    }

    // Who is asking.
    let user: string | undefined;
    if (req.method === 'POST' && record.grantType === 'refresh_token') {
      const owner = this.refreshTokens.get(params.get('refresh_token') ?? '');
      record.credentialsValid = owner !== undefined;
      if (owner === undefined) return error(401, 'UNAUTHORIZED', 'invalid refresh token');
      user = owner;
    } else if (req.method === 'POST' && record.grantType !== 'password') {
      return error(400, 'UNSUPPORTED', `unsupported grant_type ${JSON.stringify(record.grantType)}`);
    } else {
      const creds =
        req.method === 'POST'
          ? { user: params.get('username') ?? '', password: params.get('password') ?? '' }
          : parseBasic(req.headers.authorization);
      if (creds) {
        record.user = creds.user;
        record.credentialsValid = this.users[creds.user] !== undefined && this.users[creds.user] === creds.password;
        if (!record.credentialsValid) {
          return error(401, 'UNAUTHORIZED', 'authentication required', {
            'WWW-Authenticate': 'Basic realm="lading-test-issuer"',
          });
        }
        user = creds.user;
      }
    }
    record.user = user ?? record.user;

    const anonymous = this.opts.anonymous ?? 'deny';
    if (user === undefined && anonymous === 'deny') {
      return error(401, 'UNAUTHORIZED', 'authentication required', {
        'WWW-Authenticate': 'Basic realm="lading-test-issuer"',
      });
    }
    record.granted = user === undefined && anonymous === 'empty' ? [] : this.grant(user, record.requested);
    const token = this.mint(user, record.granted);
    const expiresIn = this.opts.expiresIn ?? 300;
    const body: Record<string, unknown> = {
      token,
      access_token: token,
      expires_in: expiresIn,
      issued_at: new Date().toISOString(),
    };
    if (req.method === 'POST') body.scope = record.scopes.join(' ');
    if (record.offline && user !== undefined) {
      const refresh = randomBytes(24).toString('hex');
      this.refreshTokens.set(refresh, user);
      body.refresh_token = refresh;
    }
    reply(200, body);
  }

  async stop(): Promise<void> {
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
