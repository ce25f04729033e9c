/**
 * Requests to one repository's endpoints, as containerd v2.1.4's request.doWithRetries sends them
 * (bodies too: uploads and manifests, each opened anew for every attempt):
 * authorized per host, a 401 answered by learning the challenge and trying again, HEAD turned into
 * GET where a registry refuses HEAD on manifests, redirects followed (at most 10, credentials only
 * for the host they belong to), plain HTTP after a failed TLS handshake on insecure registries,
 * and — Lading's addition — a few retries with backoff on 5xx, 408, 429 and dropped connections.
 */
import type { Readable } from 'node:stream';
import type { Authorizer, ResponseInfo } from './authorizer.js';
import { discard, isResponseTimeout, isTlsError, requestErrorText, send, type HttpResult } from './http-client.js';
import type { Endpoint } from './registry-config.js';
import { LadingError } from '../errors.js';
import { backoffDelay, DEFAULT_RETRY_POLICY, isRetryableNetworkError, isRetryableStatus, type RetryPolicy } from './retry-policy.js';
import { wrapRegistryError } from './registry-errors.js';

export interface RegistryRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  endpoint: Endpoint;
  /** Below the endpoint's path and repository: `manifests/latest`, `blobs/sha256:…`, `tags/list`, `blobs/uploads/?mount=…`. */
  path: string;
  /** Where to send it instead of `path` (an upload's Location). */
  url?: URL;
  headers?: Record<string, string>;
  /**
   * What to send. Every body can be sent again (after a 401, a redirect, a retry): bytes, or a
   * stream opened anew for each attempt (a blob read from the content store).
   */
  body?: RequestBody;
  /** Scopes this request needs beyond the repository's (a cross-repository mount's `repository:<from>:pull`). */
  scopes?: string[];
  /** Only the last endpoint retries server errors; earlier ones give way to the next. */
  lastHost: boolean;
  /** False: server errors and dropped connections are returned or thrown at once (the caller starts over). */
  retry?: boolean;
}

export type RequestBody = Buffer | { size: number; open: () => Readable };

export interface TransportOptions {
  repository: string;
  authorizer: Authorizer;
  scopes: string[];
  retry?: RetryPolicy;
  signal?: AbortSignal;
  /** Time a registry has to send response headers (http-client's responseTimeoutMs); 0: no limit. */
  responseTimeoutMs?: number;
  /** Told of every exchange (tests count requests with it). */
  onExchange?: (method: string, url: URL, status: number) => void;
}

const MAX_REDIRECTS = 10;
/** containerd gives up after more than 5 responses to one request. */
const MAX_AUTH_ROUNDS = 6;

export class RegistryTransport {
  /** Hosts whose TLS handshake failed: spoken to in plain HTTP from then on. */
  private readonly plainHttp = new Set<string>();
  readonly retry: RetryPolicy;

  constructor(private readonly options: TransportOptions) {
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
  }

  /** The URL of a request to an endpoint, `?ns=` added for mirrors. */
  url(endpoint: Endpoint, subPath: string): URL {
    const path = `${endpoint.path}/${this.options.repository}/${subPath}`.replace(/\/{2,}/g, '/');
    const url = new URL(`${endpoint.scheme}://${endpoint.host}${path}`);
    if (endpoint.namespace) url.searchParams.set('ns', endpoint.namespace);
    return url;
  }

  /** Sends a request until it has an answer worth returning (any status); throws on failure. */
  async request(req: RegistryRequest): Promise<HttpResult> {
    let method: string = req.method;
    const responses: ResponseInfo[] = [];
    const retries = req.retry ?? true;
    let attempt = 1;
    for (;;) {
      let res: HttpResult;
      try {
        res = await this.follow(method, req.url ?? this.url(req.endpoint, req.path), req);
      } catch (err) {
        // A registry silent for the whole response time gets one more chance, not a policy's worth.
        const maxAttempts = isResponseTimeout(err) ? Math.min(2, this.retry.maxAttempts) : this.retry.maxAttempts;
        const retryable = isRetryableNetworkError(err) || isResponseTimeout(err);
        if (err instanceof LadingError || !retries || !req.lastHost || !retryable || attempt >= maxAttempts) throw err;
        await this.retry.sleep(backoffDelay(attempt++, this.retry), this.options.signal);
        continue;
      }
      responses.push({ method, url: res.url, status: res.status, headers: res.headers });
      if (res.status === 401 && responses.length < MAX_AUTH_ROUNDS) {
        if (this.options.authorizer.addResponses(responses)) {
          discard(res);
          continue;
        }
        return res;
      }
      if (res.status === 405 && method === 'HEAD' && req.path.startsWith('manifests/')) {
        discard(res);
        method = 'GET';
        continue;
      }
      if (retries && isRetryableStatus(res.status) && (req.lastHost || res.status === 408 || res.status === 429) && attempt < this.retry.maxAttempts) {
        discard(res);
        await this.retry.sleep(backoffDelay(attempt++, this.retry, res.headers['retry-after']), this.options.signal);
        continue;
      }
      return res;
    }
  }

  /** One request and its redirects. */
  private async follow(startMethod: string, start: URL, req: RegistryRequest): Promise<HttpResult> {
    let url = start;
    let method = startMethod;
    let body = req.body;
    for (let hops = 0; ; hops++) {
      const res = await this.exchange(method, url, req, body);
      const location = res.headers.location;
      if (res.status >= 300 && res.status < 400 && res.status !== 304 && location) {
        discard(res);
        if (hops + 1 >= MAX_REDIRECTS) throw new LadingError('internal', `${requestErrorText(method, url, new Error('stopped after 10 redirects'))}`);
        url = new URL(location, url);
        // Go's client: 307 and 308 repeat the request, the others turn it into a GET without a body.
        if (res.status !== 307 && res.status !== 308 && method !== 'GET' && method !== 'HEAD') {
          method = 'GET';
          body = undefined;
        }
        continue;
      }
      return res;
    }
  }

  private async exchange(method: string, url: URL, req: RegistryRequest, body: RequestBody | undefined): Promise<HttpResult> {
    const sameHost = url.host === req.endpoint.host;
    // Redirects go through the same transport, as in Docker: the registry's TLS settings apply.
    const tls = req.endpoint.tls;
    let target = url;
    if (sameHost && !tls.verify && url.protocol === 'https:' && this.plainHttp.has(url.host)) target = withProtocol(url, 'http:');
    let authorization: string | undefined;
    try {
      // The authorizer knows only the hosts that challenged us: another host gets no credentials.
      authorization = await this.options.authorizer.authorize(target, req.scopes ? [...this.options.scopes, ...req.scopes] : this.options.scopes);
    } catch (err) {
      throw wrapRegistryError('failed to authorize', err);
    }
    const headers: Record<string, string> = { ...req.headers };
    if (authorization) headers.Authorization = authorization;
    const exchange = (u: URL): Promise<HttpResult> =>
      send({
        method,
        url: u,
        headers,
        tls,
        ...bodyOf(body),
        ...(this.options.signal ? { signal: this.options.signal } : {}),
        ...(this.options.responseTimeoutMs !== undefined ? { responseTimeoutMs: this.options.responseTimeoutMs } : {}),
      });
    try {
      const res = await exchange(target);
      this.options.onExchange?.(method, target, res.status);
      return res;
    } catch (err) {
      if (sameHost && !tls.verify && target.protocol === 'https:' && isTlsError(err)) {
        this.plainHttp.add(url.host);
        const plain = withProtocol(url, 'http:');
        try {
          const res = await exchange(plain);
          this.options.onExchange?.(method, plain, res.status);
          return res;
        } catch (err2) {
          throw networkError(method, plain, err2);
        }
      }
      throw networkError(method, target, err);
    }
  }
}

/** A fresh copy of the body for one exchange. */
function bodyOf(body: RequestBody | undefined): { body?: Buffer | Readable; bodySize?: number } {
  if (body === undefined) return {};
  if (Buffer.isBuffer(body)) return { body };
  return { body: body.open(), bodySize: body.size };
}

function withProtocol(url: URL, protocol: 'http:' | 'https:'): URL {
  const u = new URL(url);
  u.protocol = protocol;
  return u;
}

/** `failed to do request: Head "https://…": <cause>`, keeping the cause's code for retries. */
function networkError(method: string, url: URL, err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  if (e?.name === 'AbortError') return e;
  return Object.assign(new Error(`failed to do request: ${requestErrorText(method, url, err)}`, { cause: err }), {
    ...(e?.code ? { code: e.code } : {}),
  });
}
