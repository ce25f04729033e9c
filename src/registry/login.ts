/**
 * `docker login` against a registry, as Docker 28.5's registry.Service.Auth and loginV2 do it
 * (registry/service.go, registry/auth.go): the credentials are tried on the registry's `/v2/`
 * (HTTPS, then plain HTTP for an insecure registry; mirrors never see them), answering whatever
 * challenge it makes; 200 means logged in.
 */
import { LadingError } from '../errors.js';
import type { AuthConfig } from './auth-config.js';
import { DOCKER_HUB_REGISTRY_HOST } from './auth-config.js';
import { Authorizer, type ResponseInfo } from './authorizer.js';
import { discard, readBody, requestErrorText, send } from './http-client.js';
import { RegistryError } from './registry-errors.js';
import type { RegistryService } from './registry-service.js';
import { TokenCache } from './token-cache.js';

export interface LoginResult {
  status: string;
  identityToken: string;
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };

export async function login(registry: RegistryService, auth: AuthConfig, signal?: AbortSignal): Promise<LoginResult> {
  let host = 'index.docker.io';
  if (auth.serveraddress) {
    const address = /^https?:\/\//.test(auth.serveraddress) ? auth.serveraddress : `https://${auth.serveraddress}`;
    try {
      host = new URL(address).host;
    } catch (err) {
      throw new LadingError('invalid-argument', `unable to parse server address: ${(err as Error).message}`);
    }
  }
  if (host === 'index.docker.io' || host === 'docker.io') host = DOCKER_HUB_REGISTRY_HOST;
  const [endpoint] = await registry.config.endpoints(host === DOCKER_HUB_REGISTRY_HOST ? 'docker.io' : host);
  if (!endpoint) throw new LadingError('invalid-argument', `no endpoint for ${host}`);
  const tls = endpoint.tls;
  const bases = [`https://${endpoint.host}/v2/`];
  if (!tls.verify) bases.push(`http://${endpoint.host}/v2/`);

  let lastErr: Error | undefined;
  for (const base of bases) {
    const url = new URL(base);
    const authorizer = new Authorizer({
      credentials: (h) =>
        h === endpoint.host
          ? auth.identitytoken
            ? { username: '', secret: auth.identitytoken }
            : { username: auth.username ?? '', secret: auth.password ?? '' }
          : { username: '', secret: '' },
      // A login proves the credentials now: no token from earlier counts.
      tokens: new TokenCache(),
      tlsFor: async (h) => (h === endpoint.host ? tls : registry.config.tlsSettings(h)),
      ...(signal ? { signal } : {}),
      responseTimeoutMs: registry.responseTimeoutMs,
    });
    const responses: ResponseInfo[] = [];
    try {
      for (;;) {
        let authorization: string | undefined;
        try {
          authorization = await authorizer.authorize(url, []);
        } catch (err) {
          // The token server refused the credentials: Docker's unauthorized error, no further endpoint.
          const status = err instanceof RegistryError ? err.facts.status : undefined;
          if (status === 401 || status === 403) throw new LadingError('unauthorized', `${requestErrorText('GET', url, err)}`, { cause: err });
          throw err;
        }
        let res;
        try {
          res = await send({
            method: 'GET',
            url,
            headers: authorization ? { Authorization: authorization } : {},
            tls,
            ...(signal ? { signal } : {}),
            responseTimeoutMs: registry.responseTimeoutMs,
          });
        } catch (err) {
          throw new Error(requestErrorText('GET', url, err), { cause: err });
        }
        if (res.status === 401 && responses.length < 3) {
          responses.push({ method: 'GET', url, status: res.status, headers: res.headers });
          discard(res);
          if (authorizer.addResponses(responses)) continue;
        } else {
          await readBody(res.body, 1024 * 1024).catch(() => undefined);
        }
        if (res.status === 200) return { status: 'Login Succeeded', identityToken: '' };
        throw new Error(`login attempt to ${base} failed with status: ${res.status} ${STATUS_TEXT[res.status] ?? res.statusText}`);
      }
    } catch (err) {
      if (err instanceof LadingError && err.kind === 'unauthorized') throw err;
      if (signal?.aborted) throw err;
      lastErr = err as Error;
    }
  }
  throw lastErr ?? new Error(`login to ${host} failed`);
}
