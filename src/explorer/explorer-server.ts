/**
 * Lading's explorer on its own port (`--ui`): the page under /_lading/ui/, its JSON API under
 * /_lading/ui/api/, nothing else. Read-only; every request needs the access token unless the
 * operator turned it off. Errors map to statuses through the API's one table (api/http-errors.ts).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { TlsOptions } from 'node:tls';
import { createGuardedServer } from '../api/connection-guards.js';
import { errorMessage, statusOf } from '../api/http-errors.js';
import { Router } from '../api/router.js';
import { InvalidArgumentError, LadingError, NotFoundError } from '../errors.js';
import type { ImageExplorer } from '../images/image-explorer.js';
import type { Logger } from '../util/logger.js';
import { presentedTokens, sameToken, tokenCookie } from './access-token.js';
import { addExplorerRoutes } from './explorer-routes.js';
import { PAGE_DIR, serveStatic } from './static-files.js';

export const UI_PREFIX = '/_lading/ui/';
const API_PREFIX = '/_lading/ui/api';

export interface ExplorerServerOptions {
  /** The access token; undefined when the operator turned it off. */
  token?: string;
  tls?: TlsOptions;
  headersTimeoutMs?: number;
  /** Where the built page is (dist/web/explorer by default). */
  pageDir?: string;
}

/** What every answer carries: no framing, no sniffing, no referrer (the URL may hold the token), scripts from here only. */
const SECURITY_HEADERS: [string, string][] = [
  ['X-Frame-Options', 'DENY'],
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'no-referrer'],
  ['Content-Security-Policy', "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"],
];

const REFUSED = `This is Lading's explorer. Open the URL ladingd printed when it started (it ends in ?token=…).\n`;

export function createExplorerServer(explorer: ImageExplorer, log: Logger, options: ExplorerServerOptions = {}): Server {
  const router = new Router();
  const streams = new Set<ServerResponse>();
  addExplorerRoutes(router, explorer, streams);
  const pageDir = options.pageDir ?? PAGE_DIR;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    for (const [k, v] of SECURITY_HEADERS) res.setHeader(k, v);
    const url = new URL(req.url ?? '/', 'http://explorer');
    if (options.token !== undefined) {
      const presented = presentedTokens(req, url.searchParams);
      if (presented.query !== '' && sameToken(presented.query, options.token)) {
        // Kept in a cookie, then the URL without it: the token does not stay in the address bar or history.
        url.searchParams.delete('token');
        res.writeHead(302, { 'Set-Cookie': tokenCookie(options.token, options.tls !== undefined), Location: url.pathname + url.search });
        res.end();
        return;
      }
      if (!presented.other.some((t) => sameToken(t, options.token!))) {
        res.writeHead(401, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(REFUSED) });
        res.end(REFUSED);
        return;
      }
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new LadingError('not-implemented', `the explorer is read-only: ${req.method} is not served`);
    if (url.pathname === '/' || url.pathname === '/_lading/ui') {
      res.writeHead(302, { Location: UI_PREFIX });
      res.end();
      return;
    }
    if (url.pathname === API_PREFIX || url.pathname.startsWith(`${API_PREFIX}/`)) {
      const route = router.match('GET', url.pathname.slice(API_PREFIX.length));
      if (!route) throw new NotFoundError('page not found');
      await route.handler({ req, res, version: '', params: route.params, query: url.searchParams });
      return;
    }
    if (!url.pathname.startsWith(UI_PREFIX)) throw new NotFoundError('page not found');
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname.slice(UI_PREFIX.length));
    } catch {
      throw new InvalidArgumentError(`invalid URL escape in ${JSON.stringify(url.pathname)}`);
    }
    await serveStatic(res, pageDir, rel);
  };

  const server = createGuardedServer(
    { ...(options.tls ? { tls: options.tls } : {}), headersTimeoutMs: options.headersTimeoutMs ?? 60_000, uploadIdleTimeoutMs: 0 },
    log,
    (req, res) => {
      handle(req, res).catch((err: unknown) => {
        const status = statusOf(err);
        if (status >= 500) log.error(`explorer: ${req.method} ${req.url}`, { status, error: errorMessage(err), stack: (err as Error)?.stack });
        else log.debug(`explorer: ${req.method} ${req.url}`, { status, error: errorMessage(err) });
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const body = Buffer.from(JSON.stringify({ message: errorMessage(err) }));
        res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': body.length });
        res.end(body);
      });
    },
  );
  // An event stream never ends by itself: a stop ends them, or the daemon would wait out its grace period.
  const close = server.close.bind(server);
  server.close = (callback?: (err?: Error) => void): Server => {
    for (const res of streams) res.end();
    return close(callback);
  };
  return server;
}
