// A reverse proxy on loopback in front of a registry that injects faults per path pattern and per request count,
// and counts requests per path. Blob redirects go to a second listener (127.0.0.2 when bindable, so that even
// clients that compare hosts without ports see another host) that records whether an Authorization header came.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Registry, testCA, type TestCA } from './registry.js';

/** `/v2/<name>/blobs/sha256:<hex>`, optionally for one digest. */
export function blobPath(digest?: string): RegExp {
  return new RegExp(`^/v2/.+/blobs/${digest ? escape(digest) : 'sha256:[0-9a-f]{64}'}$`);
}

/** `/v2/<name>/manifests/<tag or digest>`, optionally for one reference. */
export function manifestPath(reference?: string): RegExp {
  return new RegExp(`^/v2/.+/manifests/${reference ? escape(reference) : '[^/]+'}$`);
}

/** Upload endpoints: `/v2/<name>/blobs/uploads/…`. */
export const UPLOAD_PATH = /^\/v2\/.+\/blobs\/uploads\//;

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export type Fault =
  /** Answer this status (default body: a registry `errors` JSON) without asking the upstream. */
  | { kind: 'status'; status: number; body?: string | Buffer; headers?: Record<string, string> }
  /** Same length, every byte inverted: the digest no longer matches; headers (Docker-Content-Digest) unchanged. */
  | { kind: 'wrong-body' }
  /** Send the upstream's headers (full Content-Length) and the first `bytes` of the body (default half), then close. */
  | { kind: 'truncate'; bytes?: number }
  /** A manifest of `size` bytes (default 4 MiB + 64 KiB): the upstream's with a padding annotation; headers match it. */
  | { kind: 'huge-manifest'; size?: number }
  /** Content-Type becomes `mediaType`; with `body` (default true) so does the JSON's top-level `mediaType`
   *  (Content-Length and Docker-Content-Digest follow the new bytes). */
  | { kind: 'media-type'; mediaType: string; body?: boolean }
  /** Fetch the blob from the upstream (with the client's headers), park it on the redirect host, answer `status`
   *  (default 307) with Location there. Upstream non-200 answers pass through. */
  | { kind: 'redirect'; status?: number }
  /** Wait, then pass through. */
  | { kind: 'delay'; ms: number }
  /** Send the upstream's headers at once, then the body's first `bytes` (default 4) one every `everyMs` (default
   *  1000: a registry sending 1 byte/s), then the rest. */
  | { kind: 'trickle'; bytes?: number; everyMs?: number }
  /** Read `bytes` of the request body (default: up to 1 byte), then cut the connection without an answer (an upload
   *  dropped mid-way). Nothing reaches the upstream. */
  | { kind: 'drop'; bytes?: number }
  /** Pass through, with an absolute `Location` cut to its path and query (`/v2/…/blobs/uploads/<id>?_state=…`), as a
   *  registry may answer upload POSTs and PATCHes (the distribution spec allows relative locations). */
  | { kind: 'relative-location' };

export interface FaultRule {
  fault: Fault;
  /** A RegExp tested against the path (no query), or an exact path. Default: every path. */
  path?: RegExp | string;
  /** Methods it applies to. Default: GET only for body faults and redirects, every method otherwise. */
  method?: string | string[];
  /** Matching requests to let through first. Default 0. */
  skip?: number;
  /** How many matching requests get the fault after that. Default: all. */
  times?: number;
}

export interface FaultHandle {
  readonly rule: FaultRule;
  /** Requests that matched the rule's method and path. */
  readonly matched: number;
  /** Requests the fault was applied to. */
  readonly applied: number;
  remove(): void;
}

export interface ProxyRequestRecord {
  seq: number;
  method: string;
  path: string;
  query: string;
  range: string | undefined;
  authorization: string | undefined;
  /** Status sent to the client (0 when the connection was cut before headers). */
  status: number;
  /** The `Location` header sent to the client, if any. */
  location: string | undefined;
  /** The fault applied, if any. */
  fault: Fault['kind'] | undefined;
  /** Body bytes passed on to the client (passed-through answers only): how far a client read before it stopped. */
  bytesSent: number;
}

export interface RedirectRecord {
  method: string;
  path: string;
  range: string | undefined;
  authorization: string | undefined;
  status: number;
}

export interface FaultProxyOptions {
  /** A Registry, or any upstream URL (`http(s)://host:port`) with the CA PEM to trust. */
  upstream: Registry | { url: string; ca?: string | Buffer };
  /** Serve HTTPS with the test CA's server certificate. Default: as the upstream. */
  tls?: boolean;
  /** Where to listen for redirected blobs. Default 127.0.0.2, or 127.0.0.1 if that cannot be bound. */
  redirectHost?: string;
}

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

const BODY_FAULTS = new Set<Fault['kind']>(['wrong-body', 'truncate', 'trickle', 'huge-manifest', 'media-type', 'redirect']);

function copyHeaders(h: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

function headerText(v: http.OutgoingHttpHeader | undefined): string | undefined {
  return v === undefined ? undefined : Array.isArray(v) ? v[0] : String(v);
}

function sha256(b: Buffer): string {
  return 'sha256:' + createHash('sha256').update(b).digest('hex');
}

interface RuleState {
  rule: FaultRule;
  matched: number;
  applied: number;
  removed: boolean;
}

interface Upstream {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Serves `Range: bytes=a-b` of `data` (one range) or all of it. */
function serveBytes(req: http.IncomingMessage, res: http.ServerResponse, data: Buffer, headers: http.OutgoingHttpHeaders): number {
  const range = req.headers.range;
  const m = range ? /^bytes=(\d*)-(\d*)$/.exec(range.trim()) : null;
  let status = 200;
  let body = data;
  const out: http.OutgoingHttpHeaders = { ...headers, 'Accept-Ranges': 'bytes' };
  if (m && (m[1] !== '' || m[2] !== '')) {
    let start: number;
    let end: number;
    if (m[1] === '') {
      start = Math.max(0, data.length - Number(m[2]));
      end = data.length - 1;
    } else {
      start = Number(m[1]);
      end = m[2] === '' ? data.length - 1 : Math.min(Number(m[2]), data.length - 1);
    }
    if (start >= data.length || start > end) {
      res.writeHead(416, { 'Content-Range': `bytes */${data.length}` });
      res.end();
      return 416;
    }
    status = 206;
    body = data.subarray(start, end + 1);
    out['Content-Range'] = `bytes ${start}-${end}/${data.length}`;
  }
  out['Content-Length'] = body.length;
  res.writeHead(status, out);
  res.end(req.method === 'HEAD' ? undefined : body);
  return status;
}

export class FaultProxy {
  readonly requests: ProxyRequestRecord[] = [];
  /** Requests that reached the redirect host. */
  readonly redirected: RedirectRecord[] = [];
  private readonly rules: RuleState[] = [];
  private readonly parked = new Map<string, { data: Buffer; headers: http.OutgoingHttpHeaders }>();
  private seq = 0;

  private constructor(
    private readonly server: http.Server,
    private readonly redirectServer: http.Server,
    private readonly upstreamUrl: URL,
    private readonly upstreamCa: string | Buffer | undefined,
    readonly tls: boolean,
    readonly ca: TestCA | undefined,
    private readonly bindHost: string,
    /** The address the redirect host listens on (127.0.0.2, or 127.0.0.1 where that is not bindable). */
    readonly redirectAddress: string,
  ) {}

  static async start(opts: FaultProxyOptions): Promise<FaultProxy> {
    const up = opts.upstream;
    const upstreamUrl = new URL(up.url);
    const upstreamCa = up instanceof Registry ? up.ca?.caPem : up.ca;
    const tls = opts.tls ?? upstreamUrl.protocol === 'https:';
    const ca = tls ? await testCA() : undefined;
    const make = () =>
      tls ? https.createServer({ cert: readFileSync(ca!.serverCertPath), key: readFileSync(ca!.serverKeyPath) }) : http.createServer();
    const server = make();
    const redirectServer = make();
    await listen(server, '127.0.0.1');
    let redirectAddress = opts.redirectHost ?? '127.0.0.2';
    try {
      await listen(redirectServer, redirectAddress);
    } catch (err) {
      if (opts.redirectHost !== undefined || (err as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL') {
        server.close();
        throw err;
      }
      redirectAddress = '127.0.0.1';
      await listen(redirectServer, redirectAddress);
    }
    const proxy = new FaultProxy(server, redirectServer, upstreamUrl, upstreamCa, tls, ca, '127.0.0.1', redirectAddress);
    server.on('request', (req, res) => {
      proxy.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) {
          res.writeHead(502, { 'Content-Type': 'text/plain' });
          res.end(`fault proxy: ${err instanceof Error ? err.message : String(err)}`);
        } else res.destroy();
      });
    });
    redirectServer.on('request', (req, res) => proxy.handleRedirected(req, res));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** `127.0.0.1:PORT`: what clients should use as the registry host. */
  get host(): string {
    return `${this.bindHost}:${this.port}`;
  }

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://${this.host}`;
  }

  /** `ADDRESS:PORT` of the redirect host. */
  get redirectHost(): string {
    return `${this.redirectAddress}:${(this.redirectServer.address() as AddressInfo).port}`;
  }

  ref(nameAndTag: string): string {
    return `${this.host}/${nameAndTag}`;
  }

  /** Writes `<dir>/127.0.0.1:PORT/ca.crt` (and the redirect host's) and returns the proxy's file. TLS only. */
  writeCertsD(dir: string): string {
    if (!this.ca) throw new Error('writeCertsD: this proxy does not use TLS');
    this.ca.writeCertsD(dir, this.redirectHost);
    return this.ca.writeCertsD(dir, this.host);
  }

  /** Adds a rule; rules are tried in the order added, the first that applies wins. */
  inject(rule: FaultRule): FaultHandle {
    const state: RuleState = { rule, matched: 0, applied: 0, removed: false };
    this.rules.push(state);
    return {
      rule,
      get matched() {
        return state.matched;
      },
      get applied() {
        return state.applied;
      },
      remove: () => {
        state.removed = true;
        const i = this.rules.indexOf(state);
        if (i >= 0) this.rules.splice(i, 1);
      },
    };
  }

  clearFaults(): void {
    for (const r of this.rules) r.removed = true;
    this.rules.length = 0;
  }

  /** Forgets recorded requests (rules keep their counters). */
  resetCounts(): void {
    this.requests.length = 0;
    this.redirected.length = 0;
  }

  /** Requests whose path matches (exact string or RegExp) and, if given, whose method is `method`. */
  count(pathPattern?: RegExp | string, method?: string): number {
    return this.matching(pathPattern, method).length;
  }

  matching(pathPattern?: RegExp | string, method?: string): ProxyRequestRecord[] {
    return this.requests.filter(
      (r) =>
        (method === undefined || r.method === method.toUpperCase()) &&
        (pathPattern === undefined || (typeof pathPattern === 'string' ? r.path === pathPattern : pathPattern.test(r.path))),
    );
  }

  /** Requests per `METHOD path`, e.g. `{ 'GET /v2/': 2 }`. */
  countsByPath(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.requests) out[`${r.method} ${r.path}`] = (out[`${r.method} ${r.path}`] ?? 0) + 1;
    return out;
  }

  private pick(method: string, urlPath: string): Fault | undefined {
    let chosen: Fault | undefined;
    for (const s of this.rules) {
      const { rule } = s;
      const methods = rule.method === undefined ? undefined : [rule.method].flat().map((m) => m.toUpperCase());
      const methodOk = methods ? methods.includes(method) : BODY_FAULTS.has(rule.fault.kind) ? method === 'GET' : true;
      const p = rule.path;
      const pathOk = p === undefined || (typeof p === 'string' ? p === urlPath : p.test(urlPath));
      if (!methodOk || !pathOk) continue;
      s.matched++;
      if (chosen) continue;
      if (s.matched > (rule.skip ?? 0) && s.applied < (rule.times ?? Infinity)) {
        s.applied++;
        chosen = rule.fault;
      }
    }
    return chosen;
  }

  /** `extraHeaders` override the client's; an undefined value removes a header. */
  private upstreamRequest(
    req: http.IncomingMessage,
    extraHeaders: Record<string, string | undefined> = {},
    method = req.method,
  ): http.ClientRequest {
    const target = new URL(req.url ?? '/', this.upstreamUrl);
    const headers = copyHeaders(req.headers);
    // Keep the client's Host so that the registry's Location headers point back at the proxy.
    headers['x-forwarded-proto'] = this.tls ? 'https' : 'http';
    headers.host = req.headers.host ?? this.host;
    for (const [k, v] of Object.entries(extraHeaders)) {
      if (v === undefined) delete headers[k];
      else headers[k] = v;
    }
    const mod = target.protocol === 'https:' ? https : http;
    return mod.request(target, {
      method,
      headers,
      agent: false,
      ...(target.protocol === 'https:' && this.upstreamCa ? { ca: this.upstreamCa } : {}),
    });
  }

  /** Sends the request upstream (body streamed from the client) and buffers the answer. */
  private fetchUpstream(
    req: http.IncomingMessage,
    extraHeaders: Record<string, string | undefined> = {},
    method = req.method,
  ): Promise<Upstream> {
    return new Promise((resolve, reject) => {
      const up = this.upstreamRequest(req, extraHeaders, method);
      up.on('response', (res) => {
        const parts: Buffer[] = [];
        res.on('data', (b: Buffer) => parts.push(b));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
        res.on('error', reject);
      });
      up.on('error', reject);
      req.pipe(up);
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://proxy.invalid');
    const method = (req.method ?? 'GET').toUpperCase();
    const record: ProxyRequestRecord = {
      seq: ++this.seq,
      method,
      path: url.pathname,
      query: url.search,
      range: req.headers.range,
      authorization: req.headers.authorization,
      status: 0,
      location: undefined,
      fault: undefined,
      bytesSent: 0,
    };
    this.requests.push(record);
    const fault = this.pick(method, url.pathname);
    record.fault = fault?.kind;
    const send = (status: number, headers: http.OutgoingHttpHeaders, body?: Buffer) => {
      record.status = status;
      record.location = headerText(headers.Location ?? headers.location);
      res.writeHead(status, headers);
      res.end(method === 'HEAD' ? undefined : body);
    };

    if (!fault || fault.kind === 'delay') {
      if (fault) await new Promise((r) => setTimeout(r, fault.ms));
      return this.passThrough(req, res, record);
    }
    if (fault.kind === 'relative-location') {
      return this.passThrough(req, res, record, (headers) => {
        const location = headerText(headers.location);
        if (location && /^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
          const url = new URL(location);
          headers.location = url.pathname + url.search;
        }
        return headers;
      });
    }
    if (fault.kind === 'status') {
      req.resume();
      const body =
        fault.body !== undefined
          ? Buffer.from(fault.body)
          : Buffer.from(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'injected fault', detail: null }] }));
      return send(fault.status, { 'Content-Type': 'application/json', 'Content-Length': body.length, ...fault.headers }, body);
    }
    if (fault.kind === 'drop') {
      const want = fault.bytes ?? 1;
      let got = 0;
      const cut = (): void => {
        req.removeAllListeners('data');
        res.socket?.destroy();
      };
      if (want <= 0) return cut();
      req.on('data', (b: Buffer) => {
        got += b.length;
        if (got >= want) cut();
      });
      req.on('end', cut);
      return;
    }
    if (fault.kind === 'redirect') {
      // The whole blob (GET even for a HEAD), whatever range was asked for: the redirect host serves ranges itself.
      const up = await this.fetchUpstream(req, { range: undefined }, 'GET');
      if (up.status !== 200) return send(up.status, copyHeaders(up.headers), up.body);
      const id = randomBytes(12).toString('hex');
      const digest = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname)?.[1] ?? 'blob';
      this.parked.set(id, {
        data: up.body,
        headers: { 'Content-Type': 'application/octet-stream', ETag: `"${digest}"` },
      });
      const scheme = this.tls ? 'https' : 'http';
      const location = `${scheme}://${this.redirectHost}/parked/${id}/${digest}?X-Lading-Signature=${randomBytes(8).toString('hex')}`;
      return send(fault.status ?? 307, { Location: location, 'Content-Length': 0 });
    }

    // A HEAD's rewritten manifest needs the body to compute its length and digest.
    const rewritesManifest = fault.kind === 'huge-manifest' || fault.kind === 'media-type';
    const up = await this.fetchUpstream(req, {}, method === 'HEAD' && rewritesManifest ? 'GET' : method);
    const headers = copyHeaders(up.headers);
    const ok = up.status === 200 || up.status === 206;
    switch (fault.kind) {
      case 'wrong-body': {
        if (!ok) break;
        const wrong = Buffer.from(up.body);
        for (let i = 0; i < wrong.length; i++) wrong[i] = wrong[i]! ^ 0xff;
        return send(up.status, headers, wrong);
      }
      case 'truncate': {
        if (!ok || method === 'HEAD') break;
        const cut = Math.min(fault.bytes ?? Math.floor(up.body.length / 2), Math.max(0, up.body.length - 1));
        headers['content-length'] = up.body.length;
        record.status = up.status;
        res.writeHead(up.status, headers);
        res.flushHeaders();
        res.write(up.body.subarray(0, cut), () => {
          // Let the bytes leave before cutting the connection.
          setTimeout(() => res.socket?.destroy(), 20);
        });
        return;
      }
      case 'trickle': {
        if (!ok || method === 'HEAD') break;
        record.status = up.status;
        res.writeHead(up.status, headers);
        res.flushHeaders();
        const slow = Math.min(fault.bytes ?? 4, up.body.length);
        let sent = 0;
        const timer = setInterval(() => {
          if (res.destroyed) return clearInterval(timer);
          if (sent < slow) {
            res.write(up.body.subarray(sent, ++sent));
            return;
          }
          clearInterval(timer);
          res.end(up.body.subarray(sent));
        }, fault.everyMs ?? 1000);
        return;
      }
      case 'huge-manifest': {
        if (up.status !== 200) break;
        const size = fault.size ?? 4 * 1024 * 1024 + 64 * 1024;
        let manifest: Record<string, unknown>;
        try {
          manifest = JSON.parse(up.body.toString('utf8')) as Record<string, unknown>;
        } catch {
          manifest = { schemaVersion: 2 };
        }
        const annotations = { ...(manifest.annotations as Record<string, string> | undefined), 'lading.test/padding': '' };
        const base = Buffer.byteLength(JSON.stringify({ ...manifest, annotations }));
        annotations['lading.test/padding'] = 'x'.repeat(Math.max(0, size - base));
        const body = Buffer.from(JSON.stringify({ ...manifest, annotations }));
        headers['content-length'] = body.length;
        headers['docker-content-digest'] = sha256(body);
        headers.etag = `"${sha256(body)}"`;
        return send(200, headers, body);
      }
      case 'media-type': {
        if (up.status !== 200) break;
        headers['content-type'] = fault.mediaType;
        let body = up.body;
        if (fault.body ?? true) {
          try {
            const manifest = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
            manifest.mediaType = fault.mediaType;
            body = Buffer.from(JSON.stringify(manifest));
          } catch {
            // not JSON: only the header changes
          }
          headers['content-length'] = body.length;
          headers['docker-content-digest'] = sha256(body);
          headers.etag = `"${sha256(body)}"`;
        }
        return send(200, headers, body);
      }
    }
    // The fault did not fit the answer (an error status, a HEAD): pass the upstream's answer on.
    return send(up.status, headers, up.body);
  }

  /** Streams the request upstream and the answer back; `rewrite` may change the answer's headers. */
  private passThrough(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    record: ProxyRequestRecord,
    rewrite: (headers: http.OutgoingHttpHeaders) => http.OutgoingHttpHeaders = (h) => h,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const up = this.upstreamRequest(req);
      up.on('response', (upRes) => {
        record.status = upRes.statusCode ?? 0;
        const headers = rewrite(copyHeaders(upRes.headers));
        record.location = headerText(headers.location);
        res.writeHead(upRes.statusCode ?? 502, headers);
        upRes.on('data', (chunk: Buffer) => {
          record.bytesSent += chunk.length;
        });
        upRes.pipe(res);
        upRes.on('end', () => resolve());
        upRes.on('error', (err) => {
          res.destroy();
          reject(err);
        });
      });
      up.on('error', reject);
      req.pipe(up);
    });
  }

  private handleRedirected(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://redirect.invalid');
    const record: RedirectRecord = {
      method: req.method ?? '',
      path: url.pathname,
      range: req.headers.range,
      authorization: req.headers.authorization,
      status: 0,
    };
    this.redirected.push(record);
    req.resume();
    const id = /^\/parked\/([0-9a-f]+)\//.exec(url.pathname)?.[1];
    const blob = id ? this.parked.get(id) : undefined;
    if (!blob || (req.method !== 'GET' && req.method !== 'HEAD')) {
      record.status = 404;
      res.writeHead(404, { 'Content-Length': 0 });
      res.end();
      return;
    }
    record.status = serveBytes(req, res, blob.data, blob.headers);
  }

  async stop(): Promise<void> {
    const close = (s: http.Server) =>
      new Promise<void>((resolve) => {
        if (!s.listening) return resolve();
        s.close(() => resolve());
        s.closeAllConnections();
      });
    await Promise.all([close(this.server), close(this.redirectServer)]);
    this.parked.clear();
  }
}

function listen(server: http.Server, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
