/**
 * One HTTP exchange with a registry or token server over node:http/https: no redirects followed
 * (the caller decides what credentials a new host gets), the body left as a stream, keep-alive
 * agents per TLS setting.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import type { RegistryTls } from './registry-config.js';
import { goNetErrorText, joinHostPort, type SocketEnds } from './go-net-error.js';
import { formatGoDuration } from '../util/go-duration.js';

export interface HttpExchange {
  method: string;
  url: URL;
  headers: Record<string, string>;
  /** A stream is sent with Content-Length `bodySize` (the registry wants it for uploads). */
  body?: Buffer | Readable;
  bodySize?: number;
  tls?: RegistryTls;
  signal?: AbortSignal;
  /** The socket may sit idle this long before the exchange fails (ETIMEDOUT). */
  idleTimeoutMs?: number;
  /**
   * Once the request is sent, the response headers must come within this time (0: wait without
   * end, as Docker does). Connecting counts too; sending a request body does not, nor does the
   * response body, which may trickle for as long as it keeps coming.
   */
  responseTimeoutMs?: number;
}

export interface HttpResult {
  method: string;
  url: URL;
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
}

const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
export const USER_AGENT = 'lading containerd-client/2.1.4 storage-driver/overlayfs';

const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 32 });
const httpsAgents = new Map<string, https.Agent>();

function agentFor(tls: RegistryTls | undefined): https.Agent {
  const key = tls ? `${tls.verify}\0${tls.ca.map((c) => c.toString('base64')).join(',')}\0${tls.cert?.toString('base64') ?? ''}` : 'default';
  let agent = httpsAgents.get(key);
  if (!agent) {
    agent = new https.Agent({
      keepAlive: true,
      maxSockets: 32,
      rejectUnauthorized: tls?.verify ?? true,
      ...(tls && tls.ca.length > 0 ? { ca: [...rootCertificates, ...tls.ca.map(String)] } : {}),
      ...(tls?.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}),
    });
    httpsAgents.set(key, agent);
  }
  return agent;
}

/** The code of the error a registry gets when it sends no response headers in time. */
export const RESPONSE_TIMEOUT_CODE = 'ERR_REGISTRY_RESPONSE_TIMEOUT';

export function isResponseTimeout(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === RESPONSE_TIMEOUT_CODE;
}

export function send(x: HttpExchange): Promise<HttpResult> {
  const isHttps = x.url.protocol === 'https:';
  const client = isHttps ? https : http;
  const idleTimeoutMs = x.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const streamsBody = x.body !== undefined && !Buffer.isBuffer(x.body);
  return new Promise((resolve, reject) => {
    let responded = false;
    let responseTimer: NodeJS.Timeout | undefined;
    const ends: SocketEnds = {};
    const req = client.request(
      x.url,
      {
        method: x.method,
        headers: { 'User-Agent': USER_AGENT, ...x.headers, ...(x.body ? { 'Content-Length': String(Buffer.isBuffer(x.body) ? x.body.length : (x.bodySize ?? 0)) } : {}) },
        agent: isHttps ? agentFor(x.tls) : httpAgent,
        ...(x.signal ? { signal: x.signal } : {}),
      },
      (res) => {
        responded = true;
        clearTimeout(responseTimer);
        res.setTimeout(idleTimeoutMs, () => {
          res.destroy(Object.assign(new Error(`read ${x.url.host}: timed out`), { code: 'ETIMEDOUT' }));
        });
        resolve({
          method: x.method,
          url: x.url,
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          headers: res.headers,
          body: res,
        });
      },
    );
    // Go's transport: the time for the response headers runs from the request's last byte
    // (Lading's also covers connecting, so a registry that takes the connection and then says
    // nothing fails rather than holding a pull forever).
    let connected = false;
    // Once the registry has sent a byte of its answer it is slow, not silent: from then on only
    // the idle timer applies, so headers trickling in are never cut while they keep coming.
    let heard = false;
    const armResponseTimer = (): void => {
      clearTimeout(responseTimer);
      const limit = x.responseTimeoutMs ?? 0;
      if (limit <= 0 || responded || heard) return;
      responseTimer = setTimeout(() => {
        const text = connected
          ? `registry ${x.url.host} sent no response headers within ${formatGoDuration(limit)}`
          : `dial tcp ${x.url.hostname}:${x.url.port || (isHttps ? 443 : 80)}: i/o timeout`;
        req.destroy(Object.assign(new Error(text), { code: RESPONSE_TIMEOUT_CODE }));
      }, limit);
    };
    armResponseTimer();
    req.on('socket', (socket) => {
      const onConnect = (): void => {
        connected = true;
        ends.local = socket.localAddress !== undefined ? joinHostPort(socket.localAddress, socket.localPort ?? 0) : undefined;
        ends.remote = socket.remoteAddress !== undefined ? joinHostPort(socket.remoteAddress, socket.remotePort ?? 0) : undefined;
        // A streamed body may take as long as it takes: the timer starts again once it is sent.
        if (streamsBody) clearTimeout(responseTimer);
      };
      const onData = (): void => {
        heard = true;
        clearTimeout(responseTimer);
      };
      socket.once('data', onData);
      req.once('close', () => socket.removeListener('data', onData));
      if (!socket.connecting) onConnect();
      // TCP's connect, not TLS's: a registry that takes the connection and stays silent in the
      // handshake has sent no answer either.
      else socket.once('connect', onConnect);
    });
    req.on('finish', armResponseTimer);
    req.setTimeout(idleTimeoutMs, () => {
      // The response body has its own idle timer; waiting for the headers is the response
      // timer's to bound once one is set (0: nobody's).
      if (responded || (x.responseTimeoutMs !== undefined && req.writableFinished && !heard)) return;
      req.destroy(Object.assign(new Error(`dial ${x.url.host}: timed out`), { code: 'ETIMEDOUT' }));
    });
    req.on('error', (err: Error) => {
      clearTimeout(responseTimer);
      if (!(err as { ends?: SocketEnds }).ends) Object.assign(err, { ends });
      reject(err);
    });
    const body = x.body;
    if (body === undefined || Buffer.isBuffer(body)) {
      req.end(body);
      return;
    }
    // A body that fails to read fails the exchange; one the exchange no longer wants is closed.
    body.on('error', (err) => req.destroy(err));
    req.on('close', () => body.destroy());
    body.pipe(req);
  });
}

/** Reads a body whole, refusing more than `limit` bytes (then the connection is dropped). */
export async function readBody(body: IncomingMessage, limit = 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > limit) {
      body.destroy();
      throw new Error(`response body larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Lets a connection go back to the pool (or closes it) when the body is not wanted. */
export function discard(res: HttpResult): void {
  // Even an empty body (HEAD, 204) must be read for its socket to go back to the pool.
  if (res.method === 'HEAD' || res.body.complete) {
    res.body.resume();
    return;
  }
  const length = Number(res.headers['content-length'] ?? NaN);
  if (Number.isFinite(length) && length <= 64 * 1024) res.body.resume();
  else res.body.destroy();
}

/** A TLS handshake answered by a plain-HTTP server, or TLS refused: worth trying plain HTTP. */
export function isTlsError(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException | undefined;
  if (!e) return false;
  const code = e.code ?? '';
  return (
    code.startsWith('ERR_SSL_') ||
    code === 'EPROTO' ||
    code === 'ECONNRESET' && /TLS|SSL|secure/i.test(e.message) ||
    /wrong version number|packet length too long|unknown protocol|http request/i.test(e.message ?? '')
  );
}

/** Go's url.Error text for a failed request: `Head "https://…": <cause>`. */
export function requestErrorText(method: string, url: URL, err: unknown): string {
  const verb = method.charAt(0) + method.slice(1).toLowerCase();
  return `${verb} ${JSON.stringify(url.toString())}: ${goNetErrorText(err)}`;
}
