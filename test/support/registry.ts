// A private distribution registry (Debian's docker-registry, 2.8) on loopback for pull/push tests: plain HTTP, TLS
// with htpasswd basic auth, or TLS with token auth from our own token issuer; skopeo helpers to fill and read it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { run, type RunResult } from './exec.js';
import type { ImageFixture } from './images.js';
import { tempDir } from './paths.js';
import { TokenIssuer, type TokenIssuerOptions } from './token-issuer.js';

export const REGISTRY_BIN =
  process.env.LADING_TEST_REGISTRY ?? (existsSync('/usr/bin/docker-registry') ? '/usr/bin/docker-registry' : 'docker-registry');

const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const SKOPEO_TIMEOUT_MS = 120_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Registries still running when the test process exits die with it (one listener for all of them).
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

// ---------------------------------------------------------------- test CA

/** A CA made for the tests and one server certificate it issued, valid for 127.0.0.1, 127.0.0.2, localhost, ::1. */
export interface TestCA {
  dir: string;
  /** PEM of the CA certificate: what a client must trust. */
  caCertPath: string;
  caKeyPath: string;
  caPem: string;
  serverCertPath: string;
  serverKeyPath: string;
  /** A directory holding only `ca.crt`, for skopeo's `--cert-dir` / `--dest-cert-dir`. */
  certDir: string;
  /** Writes `<dir>/<host>/ca.crt` (Docker's certs.d layout; `host` is `127.0.0.1:PORT`); returns that file. */
  writeCertsD(dir: string, host: string): string;
}

const CA_CNF = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = lading-test
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:127.0.0.2, DNS:localhost, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

let caPromise: Promise<TestCA> | undefined;

/** The process's test CA (EC P-256, two openssl runs, ~50 ms, made once). */
export function testCA(): Promise<TestCA> {
  caPromise ??= makeCA();
  caPromise.catch(() => (caPromise = undefined));
  return caPromise;
}

async function openssl(args: string[], cnf: string): Promise<void> {
  let res: RunResult;
  try {
    res = await run('openssl', args, { env: { ...process.env, OPENSSL_CONF: cnf } });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('openssl not found (Debian: apt-get install openssl)');
    }
    throw err;
  }
  if (res.code !== 0) throw new Error(`openssl ${args.join(' ')} exited ${res.code}: ${res.stderr.trim()}`);
}

async function makeCA(): Promise<TestCA> {
  const dir = tempDir('ca');
  const cnf = path.join(dir, 'openssl.cnf');
  writeFileSync(cnf, CA_CNF);
  const caKeyPath = path.join(dir, 'ca.key');
  const caCertPath = path.join(dir, 'ca.crt');
  const serverKeyPath = path.join(dir, 'server.key');
  const serverCertPath = path.join(dir, 'server.crt');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await openssl(['req', '-x509', '-config', cnf, '-extensions', 'ca_ext', ...ec, '-keyout', caKeyPath, '-out', caCertPath,
    '-days', '3650', '-subj', '/CN=Lading Test CA'], cnf);
  await openssl(['req', '-x509', '-config', cnf, '-extensions', 'server_ext', '-CA', caCertPath, '-CAkey', caKeyPath, ...ec,
    '-keyout', serverKeyPath, '-out', serverCertPath, '-days', '825', '-subj', '/CN=127.0.0.1'], cnf);
  const certDir = path.join(dir, 'certdir');
  mkdirSync(certDir);
  copyFileSync(caCertPath, path.join(certDir, 'ca.crt'));
  return {
    dir,
    caCertPath,
    caKeyPath,
    caPem: readFileSync(caCertPath, 'utf8'),
    serverCertPath,
    serverKeyPath,
    certDir,
    writeCertsD(root: string, host: string): string {
      const hostDir = path.join(root, host);
      mkdirSync(hostDir, { recursive: true });
      const file = path.join(hostDir, 'ca.crt');
      copyFileSync(caCertPath, file);
      return file;
    },
  };
}

// ---------------------------------------------------------------- HTTP helpers

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** False when the connection ended before Content-Length bytes arrived (only with `allowIncomplete`). */
  complete: boolean;
  /** Why it was incomplete. */
  error?: Error;
}

export interface HttpRequestOptions {
  method?: string;
  headers?: http.OutgoingHttpHeaders;
  body?: Buffer | string;
  /** CA PEM (contents, not a path) for https URLs. */
  ca?: string | Buffer;
  timeoutMs?: number;
  /** Resolve with `complete: false` instead of rejecting when the body is cut short. */
  allowIncomplete?: boolean;
}

/** One request with node:http(s), no keep-alive, no redirects followed; the whole body buffered. */
export function httpRequest(url: string | URL, opts: HttpRequestOptions = {}): Promise<HttpResult> {
  const u = typeof url === 'string' ? new URL(url) : url;
  const mod = u.protocol === 'https:' ? https : http;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      u,
      {
        method: opts.method ?? 'GET',
        headers: opts.headers ?? {},
        agent: false,
        ...(u.protocol === 'https:' && opts.ca ? { ca: opts.ca } : {}),
      },
      (res) => {
        const parts: Buffer[] = [];
        let settled = false;
        const finish = (error?: Error) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const body = Buffer.concat(parts);
          const result: HttpResult = {
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text: body.toString('utf8'),
            complete: error === undefined,
            ...(error ? { error } : {}),
          };
          if (error && !opts.allowIncomplete) {
            reject(new Error(`${opts.method ?? 'GET'} ${u.href}: body cut short after ${body.length} bytes: ${error.message}`));
          } else resolve(result);
        };
        res.on('data', (b: Buffer) => parts.push(b));
        res.on('end', () => finish(res.complete ? undefined : new Error('connection closed early')));
        res.on('error', (err) => finish(err));
        res.on('aborted', () => finish(new Error('aborted')));
        res.on('close', () => finish(res.complete ? undefined : new Error('connection closed early')));
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${opts.method ?? 'GET'} ${u.href}: ${err.message}`));
    });
    req.end(opts.body);
  });
}

export interface Credentials {
  username: string;
  password: string;
}

/** `Bearer realm="…",service="…",scope="…"` → scheme and parameters. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const m = /^(\S+)\s*(.*)$/.exec(header.trim());
  const params: Record<string, string> = {};
  for (const p of (m?.[2] ?? '').matchAll(/([a-zA-Z_]+)="([^"]*)"/g)) params[p[1]!.toLowerCase()] = p[2]!;
  return { scheme: (m?.[1] ?? '').toLowerCase(), params };
}

function basicHeader(c: Credentials): string {
  return 'Basic ' + Buffer.from(`${c.username}:${c.password}`).toString('base64');
}

/**
 * A request as a registry client makes it: sent anonymously first; on a 401, Basic credentials, or a token fetched
 * from the challenge's realm (with `scope` when given, else the challenge's own), then sent again once.
 */
export async function registryRequest(
  url: string,
  opts: HttpRequestOptions & { creds?: Credentials; scope?: string[] } = {},
): Promise<HttpResult> {
  const first = await httpRequest(url, opts);
  const challenge = first.headers['www-authenticate'];
  if (first.status !== 401 || typeof challenge !== 'string') return first;
  const { scheme, params } = parseChallenge(challenge);
  let authorization: string;
  if (scheme === 'basic') {
    if (!opts.creds) return first;
    authorization = basicHeader(opts.creds);
  } else if (scheme === 'bearer' && params.realm) {
    const realm = new URL(params.realm);
    if (params.service) realm.searchParams.set('service', params.service);
    const scopes = opts.scope ?? (params.scope ? params.scope.split(' ') : []);
    for (const s of scopes) realm.searchParams.append('scope', s);
    const tok = await httpRequest(realm, {
      ...(opts.ca ? { ca: opts.ca } : {}),
      headers: opts.creds ? { authorization: basicHeader(opts.creds) } : {},
    });
    if (tok.status !== 200) return tok;
    const body = JSON.parse(tok.text) as { token?: string; access_token?: string };
    authorization = `Bearer ${body.token ?? body.access_token}`;
  } else {
    return first;
  }
  return httpRequest(url, { ...opts, headers: { ...opts.headers, authorization } });
}

// ---------------------------------------------------------------- registry

export type RegistryMode = 'plain' | 'htpasswd' | 'token';

export interface RegistryOptions {
  /** Default `plain`. */
  mode?: RegistryMode;
  /** HTTPS with the test CA. Default: false for `plain`, true for `htpasswd` and `token`. */
  tls?: boolean;
  /** The user that htpasswd (or the token issuer) knows. Default `lading` / `lading-secret`. */
  username?: string;
  password?: string;
  /** Token mode: options for the issuer. Its `users` add to username/password; `tls` follows `issuerTls`. */
  token?: Omit<TokenIssuerOptions, 'tls'>;
  /** Token mode: serve the realm over HTTPS (same CA). Default: as `tls`. */
  issuerTls?: boolean;
  /** storage.delete.enabled. Default true. */
  deleteEnabled?: boolean;
  /** Deep-merged over the generated configuration (objects merge, everything else replaces). */
  config?: Record<string, unknown>;
  startTimeoutMs?: number;
}

export interface SkopeoAuth {
  /** Credentials to present; `false` for none (`--no-creds`). Default: the registry's own, where it has any. */
  creds?: Credentials | false;
  /** A bearer token to present instead (`--registry-token`). */
  token?: string;
}

export interface PushOptions extends SkopeoAuth {
  /** `--all`: every manifest of an index. Without it, skopeo copies the host platform's image only. */
  all?: boolean;
  /** `--preserve-digests` (default true): fail rather than compress an uncompressed layer or rewrite a manifest. */
  preserveDigests?: boolean;
  timeoutMs?: number;
}

type Json = Record<string, unknown>;
function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObject(v) && isObject(out[k]) ? deepMerge(out[k] as Json, v) : v;
  return out;
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function htpasswdLine(user: string, password: string): Promise<string> {
  let res: RunResult;
  try {
    // bcrypt (the only hash the registry reads), cost 5: a few ms per check.
    res = await run('htpasswd', ['-nbB', '-C', '5', user, password]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('htpasswd not found (Debian: apt-get install apache2-utils; see scripts/install-test-deps.sh)');
    }
    throw err;
  }
  if (res.code !== 0) throw new Error(`htpasswd exited ${res.code}: ${res.stderr.trim()}`);
  return res.stdout.trim();
}

/** An environment without the registry's REGISTRY_* overrides and skopeo's auth file. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('REGISTRY_')) env[k] = v;
  return env;
}

export class Registry {
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exitPromise: Promise<void>;
  private stopped = false;
  private lastLogs = '';
  /** Per-registry empty auth file, so skopeo never picks up credentials from the user's files. */
  private readonly authFile: string;

  private constructor(
    private readonly child: ChildProcess,
    readonly mode: RegistryMode,
    readonly dir: string,
    readonly port: number,
    readonly tls: boolean,
    /** The test CA, when TLS (registry or issuer) is on. */
    readonly ca: TestCA | undefined,
    /** The user htpasswd or the token issuer accepts; undefined in `plain`. */
    readonly credentials: Credentials | undefined,
    /** Token mode's issuer. */
    readonly issuer: TokenIssuer | undefined,
    private readonly logFile: string,
    /** The configuration file the registry runs with (JSON, which is YAML). */
    readonly configPath: string,
  ) {
    this.authFile = path.join(dir, 'auth.json');
    writeFileSync(this.authFile, '{"auths":{}}\n');
    running.add(child);
    this.exitPromise = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exited = { code, signal };
        running.delete(child);
        resolve();
      });
      child.on('error', () => {
        if (child.pid === undefined && !this.exited) {
          this.exited = { code: null, signal: null };
          running.delete(child);
          resolve();
        }
      });
    });
  }

  /**
   * Starts a registry on 127.0.0.1 at a free port with storage in a temp dir, and waits until `/v2/` answers
   * 200 (plain) or 401 (auth). Token mode starts the issuer first. Throws with the log tail if it does not come up.
   */
  static async start(opts: RegistryOptions = {}): Promise<Registry> {
    const mode = opts.mode ?? 'plain';
    const tls = opts.tls ?? mode !== 'plain';
    const issuerTls = opts.issuerTls ?? tls;
    const ca = tls || (mode === 'token' && issuerTls) ? await testCA() : undefined;
    const credentials =
      mode === 'plain' ? undefined : { username: opts.username ?? 'lading', password: opts.password ?? 'lading-secret' };
    let issuer: TokenIssuer | undefined;
    if (mode === 'token') {
      issuer = await TokenIssuer.start({
        ...opts.token,
        users: { [credentials!.username]: credentials!.password, ...opts.token?.users },
        ...(issuerTls ? { tls: { cert: ca!.serverCertPath, key: ca!.serverKeyPath } } : {}),
      });
    }
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        return await Registry.launch(opts, mode, tls, ca, credentials, issuer);
      } catch (err) {
        lastError = err as Error;
        // Another process took the port between our probe and the registry's bind: try another.
        if (!/address already in use/.test(lastError.message)) break;
      }
    }
    await issuer?.stop();
    throw lastError;
  }

  private static async launch(
    opts: RegistryOptions,
    mode: RegistryMode,
    tls: boolean,
    ca: TestCA | undefined,
    credentials: Credentials | undefined,
    issuer: TokenIssuer | undefined,
  ): Promise<Registry> {
    const dir = tempDir('registry');
    const port = await freePort('127.0.0.1');
    let config: Json = {
      version: '0.1',
      log: { level: 'info', formatter: 'text', accesslog: { disabled: false } },
      storage: {
        filesystem: { rootdirectory: path.join(dir, 'data') },
        delete: { enabled: opts.deleteEnabled ?? true },
        maintenance: { uploadpurging: { enabled: false } },
      },
      http: {
        addr: `127.0.0.1:${port}`,
        secret: randomBytes(16).toString('hex'),
        headers: { 'X-Content-Type-Options': ['nosniff'] },
        ...(tls ? { tls: { certificate: ca!.serverCertPath, key: ca!.serverKeyPath } } : {}),
      },
    };
    if (mode === 'htpasswd') {
      const file = path.join(dir, 'htpasswd');
      writeFileSync(file, (await htpasswdLine(credentials!.username, credentials!.password)) + '\n');
      config.auth = { htpasswd: { realm: 'Lading Test Registry', path: file } };
    } else if (mode === 'token') {
      config.auth = {
        token: {
          realm: issuer!.realm,
          service: issuer!.service,
          issuer: issuer!.issuer,
          rootcertbundle: issuer!.rootCertBundle,
        },
      };
    }
    if (opts.config) config = deepMerge(config, opts.config);
    const configPath = path.join(dir, 'config.json');
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    const logFile = path.join(dir, 'registry.log');
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(REGISTRY_BIN, ['serve', configPath], { stdio: ['ignore', fd, fd], env: cleanEnv() });
    } finally {
      closeSync(fd);
    }
    const reg = new Registry(child, mode, dir, port, tls, ca, credentials, issuer, logFile, configPath);
    const failure = await reg.waitReady(opts.startTimeoutMs ?? START_TIMEOUT_MS);
    if (failure === undefined) return reg;
    const logs = reg.logs();
    await reg.stopRegistryOnly();
    if ((failure as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${REGISTRY_BIN} not found (Debian: apt-get install docker-registry)`);
    }
    throw new Error(`registry did not start: ${failure.message}\n${logs}`);
  }

  private async waitReady(timeoutMs: number): Promise<Error | undefined> {
    const deadline = Date.now() + timeoutMs;
    const want = this.mode === 'plain' ? 200 : 401;
    let last = 'no attempt';
    while (Date.now() < deadline) {
      if (this.exited) {
        const err = new Error(`exited with code ${this.exited.code} (signal ${this.exited.signal})`);
        if (this.child.pid === undefined) (err as NodeJS.ErrnoException).code = 'ENOENT';
        return err;
      }
      try {
        const res = await this.request('/v2/', { timeoutMs: 1_000 });
        if (res.status === want) return undefined;
        last = `status ${res.status}: ${res.text.slice(0, 200)}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      await sleep(10);
    }
    return new Error(`no ${want} from GET /v2/ within ${timeoutMs} ms (last: ${last})`);
  }

  /** `127.0.0.1:PORT`. */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  get scheme(): 'http' | 'https' {
    return this.tls ? 'https' : 'http';
  }

  /** `http(s)://127.0.0.1:PORT`. */
  get url(): string {
    return `${this.scheme}://${this.host}`;
  }

  /** The CA certificate (PEM file) to trust, when TLS is on (for the registry or the token issuer). */
  get caCertPath(): string | undefined {
    return this.ca?.caCertPath;
  }

  /** `127.0.0.1:PORT/NAME[:TAG|@DIGEST]`. */
  ref(nameAndTag: string): string {
    return `${this.host}/${nameAndTag}`;
  }

  /** Writes `<dir>/127.0.0.1:PORT/ca.crt` (Docker's certs.d layout) and returns that file. TLS only. */
  writeCertsD(dir: string): string {
    if (!this.ca) throw new Error('writeCertsD: this registry does not use TLS');
    return this.ca.writeCertsD(dir, this.host);
  }

  /** An HTTP request to this registry (`urlPath` like `/v2/`), trusting the test CA, with no credentials. */
  request(urlPath: string, opts: HttpRequestOptions = {}): Promise<HttpResult> {
    return httpRequest(this.url + urlPath, { ...(this.ca ? { ca: this.ca.caPem } : {}), ...opts });
  }

  /** Like `request`, but answering a 401 challenge with the registry's credentials (or `creds`), as a client does. */
  authedRequest(
    urlPath: string,
    opts: HttpRequestOptions & { creds?: Credentials; scope?: string[] } = {},
  ): Promise<HttpResult> {
    return registryRequest(this.url + urlPath, {
      ...(this.ca ? { ca: this.ca.caPem } : {}),
      ...(this.credentials ? { creds: this.credentials } : {}),
      ...opts,
    });
  }

  /** skopeo's flags for this registry: TLS, certs, credentials. `side` is '' (inspect), 'src-' or 'dest-'. */
  skopeoFlags(side: '' | 'src-' | 'dest-', auth: SkopeoAuth = {}): string[] {
    const flags = [`--${side}tls-verify=${this.tls}`];
    if (this.tls) flags.push(`--${side}cert-dir`, this.ca!.certDir);
    if (auth.token !== undefined) flags.push(`--${side}registry-token`, auth.token);
    else if (auth.creds === false) flags.push(`--${side}no-creds`);
    else {
      const c = auth.creds ?? this.credentials;
      if (c) flags.push(`--${side}creds`, `${c.username}:${c.password}`);
    }
    return flags;
  }

  /** Runs skopeo with our empty auth file and without REGISTRY_AUTH_FILE; never throws for a non-zero exit. */
  skopeo(args: readonly string[], timeoutMs = SKOPEO_TIMEOUT_MS): Promise<RunResult> {
    return run('skopeo', args, { env: cleanEnv(), timeoutMs });
  }

  private async skopeoOk(args: readonly string[], timeoutMs?: number): Promise<RunResult> {
    const res = await this.skopeo(args, timeoutMs);
    if (res.code !== 0) {
      throw new Error(`skopeo ${args.join(' ')} exited ${res.code ?? res.signal}: ${res.stderr.trim()}\n${this.logs(4096)}`);
    }
    return res;
  }

  /**
   * `skopeo copy` of an OCI layout into this registry as `ref` (`name:tag`, relative to the registry). `source` is a
   * fixture (copied by its tag) or a layout directory (its only manifest). Returns the digest of the pushed manifest.
   */
  async push(source: ImageFixture | string, ref: string, opts: PushOptions = {}): Promise<string> {
    const src = typeof source === 'string' ? `oci:${source}` : `oci:${source.layoutDir}:${source.tag}`;
    const digestFile = path.join(this.dir, `digest-${randomBytes(4).toString('hex')}`);
    await this.skopeoOk(
      [
        'copy', '--quiet', '--authfile', this.authFile, '--digestfile', digestFile,
        ...(opts.all ? ['--all'] : []),
        ...(opts.preserveDigests ?? true ? ['--preserve-digests'] : []),
        ...this.skopeoFlags('dest-', opts),
        src, `docker://${this.ref(ref)}`,
      ],
      opts.timeoutMs,
    );
    const digest = readFileSync(digestFile, 'utf8').trim();
    rmSync(digestFile, { force: true });
    return digest;
  }

  /** `skopeo inspect [--raw] docker://HOST/REF`; never throws for a non-zero exit (for tests of refusals). */
  inspect(ref: string, opts: SkopeoAuth & { raw?: boolean; config?: boolean } = {}): Promise<RunResult> {
    return this.skopeo([
      'inspect', '--authfile', this.authFile,
      ...(opts.raw ? ['--raw'] : []),
      ...(opts.config ? ['--config'] : []),
      ...this.skopeoFlags('', opts),
      `docker://${this.ref(ref)}`,
    ]);
  }

  /** The manifest bytes `ref` resolves to, as served. */
  async inspectRaw(ref: string, opts: SkopeoAuth = {}): Promise<Buffer> {
    const res = await this.inspect(ref, { ...opts, raw: true });
    if (res.code !== 0) {
      throw new Error(`skopeo inspect --raw ${this.ref(ref)} exited ${res.code}: ${res.stderr.trim()}\n${this.logs(4096)}`);
    }
    return Buffer.from(res.stdout, 'utf8');
  }

  /** sha256 of the manifest `ref` resolves to (`skopeo inspect --raw`). */
  async inspectDigest(ref: string, opts: SkopeoAuth = {}): Promise<string> {
    return 'sha256:' + createHash('sha256').update(await this.inspectRaw(ref, opts)).digest('hex');
  }

  /** The registry's log file (access log and "response completed" lines), while it runs. */
  get logPath(): string {
    return this.logFile;
  }

  /** The tail of the registry's log (access log and errors). */
  logs(limit = 8 * 1024): string {
    let text: string;
    try {
      text = readFileSync(this.logFile, 'utf8');
    } catch {
      text = this.lastLogs;
    }
    return `--- registry ${this.host} log (last ${limit} bytes) ---\n${text.slice(-limit)}\n--- end ---`;
  }

  private async stopRegistryOnly(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (!this.exited) {
      this.child.kill('SIGTERM');
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), STOP_TIMEOUT_MS).unref());
      if ((await Promise.race([this.exitPromise, timer])) === 'timeout') {
        this.child.kill('SIGKILL');
        await this.exitPromise;
      }
    }
    try {
      this.lastLogs = readFileSync(this.logFile, 'utf8').slice(-64 * 1024);
    } catch {
      // never written
    }
    if (!process.env.LADING_KEEP_TEST_TMP) rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
  }

  /** Kills the registry (SIGTERM, then SIGKILL), stops the issuer, removes the storage. Idempotent. */
  async stop(): Promise<void> {
    await this.stopRegistryOnly();
    await this.issuer?.stop();
  }
}
