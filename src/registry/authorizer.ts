/**
 * Registry authorization as containerd v2.1.4's dockerAuthorizer does it for Docker 28.5: a 401
 * names a scheme; basic sends the credentials to that host; bearer gets a token from the realm
 * (anonymous GET, GET with basic auth, or the OAuth POST with a password or refresh token, falling
 * back to GET where the POST is not supported) for the request's scopes. Credentials are only
 * ever given to the host they are for.
 */
import { parseAuthHeader, type Challenge } from './auth-challenge.js';
import { discard, readBody, requestErrorText, send, type HttpResult } from './http-client.js';
import { invalidAuthorization, RegistryError, unexpectedStatus, wrapRegistryError } from './registry-errors.js';
import type { RegistryTls } from './registry-config.js';
import type { TokenCache } from './token-cache.js';
import { TokenCache as Cache } from './token-cache.js';

export interface Credentials {
  username: string;
  secret: string;
}

export interface AuthorizerOptions {
  /** Credentials for a registry host; empty strings when there are none for it. */
  credentials: (host: string) => Credentials;
  /** A bearer token the client already has, for one host (`registrytoken`). */
  registryToken?: { host: string; token: string };
  tokens: TokenCache;
  /** TLS settings for talking to a token realm on this host (the registry's, for its own host). */
  tlsFor: (host: string) => Promise<RegistryTls | undefined>;
  signal?: AbortSignal;
  /** Time a token server has to send response headers; 0: no limit. */
  responseTimeoutMs?: number;
}

type Handler =
  | { scheme: 'basic'; username: string; secret: string }
  | { scheme: 'bearer'; realm: string; service: string; scopes: string[]; username: string; secret: string };

export interface ResponseInfo {
  method: string;
  url: URL;
  status: number;
  headers: HttpResult['headers'];
}

export const OAUTH_CLIENT_ID = 'containerd-client';

export class Authorizer {
  private readonly handlers = new Map<string, Handler>();
  /** Token cache keys handed out per host, so a refused token can be dropped. */
  private readonly lastKeys = new Map<string, string>();

  constructor(private readonly options: AuthorizerOptions) {}

  /** The Authorization header for a request to `url`, if this host asked for one. */
  async authorize(url: URL, scopes: readonly string[]): Promise<string | undefined> {
    const fixed = this.options.registryToken;
    if (fixed) return fixed.host === url.host ? `Bearer ${fixed.token}` : undefined;
    const handler = this.handlers.get(url.host);
    if (!handler) return undefined;
    if (handler.scheme === 'basic') {
      if (!handler.username || !handler.secret) throw new Error('failed to handle basic auth because missing username or secret');
      return `Basic ${Buffer.from(`${handler.username}:${handler.secret}`).toString('base64')}`;
    }
    const allScopes = [...new Set([...scopes, ...handler.scopes])].sort();
    const key = Cache.key({ ...handler, scopes: allScopes });
    this.lastKeys.set(url.host, key);
    const token = await this.options.tokens.get(key, () => this.fetchToken(handler, allScopes, url.host));
    return `Bearer ${token}`;
  }

  /**
   * Learns from a 401 (the last of `responses`). True: try the request again. False: nothing
   * more to do (the 401 stands). Throws when the credentials were refused.
   */
  addResponses(responses: readonly ResponseInfo[]): boolean {
    const last = responses[responses.length - 1];
    if (!last) return false;
    if (this.options.registryToken) return false;
    const host = last.url.host;
    const challenges = parseAuthHeader(headerValues(last.headers['www-authenticate']));
    for (const c of challenges) {
      if (c.scheme === 'bearer') {
        if (this.invalidAuthorization(c, responses)) {
          this.handlers.delete(host);
          const key = this.lastKeys.get(host);
          if (key) this.options.tokens.delete(key);
        }
        // One registry, one realm: a handler already there serves every scope.
        if (this.handlers.has(host)) return true;
        const creds = this.options.credentials(host);
        const realm = c.parameters.realm;
        if (realm === undefined) throw new Error('no realm specified for token auth challenge');
        let realmUrl: URL;
        try {
          realmUrl = new URL(realm);
        } catch (err) {
          throw new Error(`invalid token auth challenge realm: ${(err as Error).message}`);
        }
        this.handlers.set(host, {
          scheme: 'bearer',
          realm: realmUrl.toString(),
          service: c.parameters.service ?? '',
          scopes: c.parameters.scope ? c.parameters.scope.split(' ') : [],
          username: creds.username,
          secret: creds.secret,
        });
        return true;
      }
      if (c.scheme === 'basic') {
        const creds = this.options.credentials(host);
        if (!creds.username || !creds.secret) throw invalidAuthorization('authorization failed: no basic auth credentials');
        this.handlers.set(host, { scheme: 'basic', username: creds.username, secret: creds.secret });
        return true;
      }
    }
    return false;
  }

  /**
   * A bearer challenge with an `error`: the token was refused. Once is worth a new token; twice
   * for the same request is final (containerd's invalidAuthorization).
   */
  private invalidAuthorization(c: Challenge, responses: readonly ResponseInfo[]): boolean {
    const error = c.parameters.error;
    if (!error) return false;
    const n = responses.length;
    const prev = responses[n - 2];
    const last = responses[n - 1];
    if (n === 1 || !prev || !last || prev.method !== last.method || prev.url.toString() !== last.url.toString()) return true;
    throw invalidAuthorization(`server message: ${error}: authorization failed`);
  }

  private async fetchToken(h: Extract<Handler, { scheme: 'bearer' }>, scopes: string[], host: string): Promise<{ token: string; expiresInS?: number }> {
    if (h.secret) {
      try {
        return await this.fetchTokenWithOAuth(h, scopes, host);
      } catch (err) {
        const status = err instanceof RegistryError ? err.facts.status : undefined;
        // Registries without the POST flow answer it with 404, 401, 400, or 405.
        if ((status === 405 && h.username !== '') || status === 404 || status === 401 || status === 400) {
          return this.fetchTokenWithGet(h, scopes, host);
        }
        throw wrapRegistryError('failed to fetch oauth token', err);
      }
    }
    try {
      return await this.fetchTokenWithGet(h, scopes, host);
    } catch (err) {
      throw wrapRegistryError('failed to fetch anonymous token', err);
    }
  }

  private async fetchTokenWithGet(h: Extract<Handler, { scheme: 'bearer' }>, scopes: string[], host: string): Promise<{ token: string; expiresInS?: number }> {
    const url = new URL(h.realm);
    if (h.service) url.searchParams.append('service', h.service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    // Go's url.Values.Encode sorts by key.
    url.search = sortedQuery(url.searchParams);
    const headers: Record<string, string> = {};
    if (h.secret) headers.Authorization = `Basic ${Buffer.from(`${h.username}:${h.secret}`).toString('base64')}`;
    const res = await this.tokenRequest('GET', url, headers, undefined, host);
    const body = await readBody(res.body);
    if (res.status < 200 || res.status >= 400) throw unexpectedStatus('GET', url.toString(), res.status, res.statusText, body);
    const parsed = parseTokenResponse(body);
    const token = parsed.access_token || parsed.token;
    if (!token) throw new Error('authorization server did not include a token in the response');
    return { token, ...(parsed.expires_in ? { expiresInS: parsed.expires_in } : {}) };
  }

  private async fetchTokenWithOAuth(h: Extract<Handler, { scheme: 'bearer' }>, scopes: string[], host: string): Promise<{ token: string; expiresInS?: number }> {
    const form = new URLSearchParams();
    if (scopes.length > 0) form.set('scope', scopes.join(' '));
    form.set('service', h.service);
    form.set('client_id', OAUTH_CLIENT_ID);
    if (h.username === '') {
      form.set('grant_type', 'refresh_token');
      form.set('refresh_token', h.secret);
    } else {
      form.set('grant_type', 'password');
      form.set('username', h.username);
      form.set('password', h.secret);
    }
    const url = new URL(h.realm);
    const res = await this.tokenRequest(
      'POST',
      url,
      { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
      Buffer.from(sortedQuery(form)),
      host,
    );
    const body = await readBody(res.body);
    if (res.status < 200 || res.status >= 400) throw unexpectedStatus('POST', url.toString(), res.status, res.statusText, body);
    const parsed = parseTokenResponse(body);
    if (!parsed.access_token) throw new Error('authorization server did not include a token in the response');
    return { token: parsed.access_token, ...(parsed.expires_in ? { expiresInS: parsed.expires_in } : {}) };
  }

  /** A token request; redirects are followed without the credentials when the host changes. */
  private async tokenRequest(method: string, url: URL, headers: Record<string, string>, body: Buffer | undefined, registryHost: string): Promise<HttpResult> {
    let current = url;
    let currentHeaders = headers;
    for (let hops = 0; ; hops++) {
      let res: HttpResult;
      try {
        res = await send({
          method,
          url: current,
          headers: currentHeaders,
          ...(body ? { body } : {}),
          ...tlsOption(await this.options.tlsFor(current.host === registryHost ? registryHost : current.host)),
          ...(this.options.signal ? { signal: this.options.signal } : {}),
          ...(this.options.responseTimeoutMs !== undefined ? { responseTimeoutMs: this.options.responseTimeoutMs } : {}),
        });
      } catch (err) {
        throw new Error(requestErrorText(method, current, err), { cause: err });
      }
      const location = res.headers.location;
      if (res.status >= 300 && res.status < 400 && location && hops < 10 && method === 'GET') {
        discard(res);
        const next = new URL(location, current);
        if (next.host !== current.host) {
          const { Authorization: _dropped, ...rest } = currentHeaders;
          currentHeaders = rest;
        }
        current = next;
        continue;
      }
      return res;
    }
  }
}

function tlsOption(tls: RegistryTls | undefined): { tls?: RegistryTls } {
  return tls ? { tls } : {};
}

function headerValues(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function sortedQuery(params: URLSearchParams): string {
  const entries = [...params.entries()];
  // Stable sort by key keeps repeated scopes in order, as Go's Encode does.
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return entries.map(([k, v]) => `${goQueryEscape(k)}=${goQueryEscape(v)}`).join('&');
}

/** Go's url.QueryEscape: space as +, unreserved kept, the rest percent-encoded. */
function goQueryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/%20/g, '+')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function parseTokenResponse(body: Buffer): { token?: string; access_token?: string; expires_in?: number } {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    return {
      ...(typeof parsed.token === 'string' ? { token: parsed.token } : {}),
      ...(typeof parsed.access_token === 'string' ? { access_token: parsed.access_token } : {}),
      ...(typeof parsed.expires_in === 'number' ? { expires_in: parsed.expires_in } : {}),
    };
  } catch (err) {
    throw new Error(`unable to decode token response: ${(err as Error).message}`);
  }
}
