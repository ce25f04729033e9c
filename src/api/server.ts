import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { CACHED_ROUTE, type ApiObserver } from './api-observer.js';
import { errorKind, InvalidArgumentError, NotFoundError } from '../errors.js';
import type { ImageService } from '../images/image-service.js';
import type { Logger } from '../util/logger.js';
import { MAX_API_VERSION, requestVersion } from './api-version.js';
import { clientGone, createGuardedServer, refuseRestOfUpload, type ApiServerOptions } from './connection-guards.js';
import type { DaemonInfo } from './daemon-info.js';
import { errorMessage, statusOf, writeError } from './http-errors.js';
import { wasLogged } from '../images/operation-log.js';
import { InspectResponses } from './inspect-cache.js';
import { addImageListRoutes } from './routes/image-list-routes.js';
import { addImageRoutes } from './routes/image-routes.js';
import { addImageWriteRoutes } from './routes/image-write-routes.js';
import { addEventRoutes } from './routes/event-routes.js';
import { addImageReadRoutes } from './routes/image-read-routes.js';
import { addPullRoutes } from './routes/pull-routes.js';
import { addPushRoutes } from './routes/push-routes.js';
import { addDistributionRoutes } from './routes/distribution-routes.js';
import { addNoRuntimeRoutes } from './routes/no-runtime-routes.js';
import { addSystemRoutes } from './routes/system-routes.js';
import { Router } from './router.js';

const VERSION_PREFIX = /^\/v([0-9.]+)(\/.*)$/;
const MAX_URL_LENGTH = 64 * 1024;

/** Methods a request is counted under by name; any other is `other`, so a client cannot grow the label set. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']);

/** The Docker Engine API over HTTP: it only translates requests into image service calls. */
export function createApiServer(
  images: ImageService,
  info: DaemonInfo,
  log: Logger,
  options: ApiServerOptions & { observer?: ApiObserver } = {},
): Server {
  const { observer } = options;
  const commonHeaders: [string, string][] = [
    ['Api-Version', MAX_API_VERSION],
    ['Docker-Experimental', 'false'],
    ['Ostype', 'linux'],
    ['Server', `${info.productName}/${info.version} (linux)`],
  ];
  const inspectResponses = new InspectResponses(commonHeaders);
  inspectResponses.observer = observer;

  const router = new Router();
  addSystemRoutes(router, images, info);
  addImageListRoutes(router, images, inspectResponses);
  addImageRoutes(router, images, inspectResponses);
  addImageReadRoutes(router, images);
  addImageWriteRoutes(router, images);
  addPullRoutes(router, images);
  addPushRoutes(router, images);
  addDistributionRoutes(router, images);
  addEventRoutes(router, images.events);
  addNoRuntimeRoutes(router);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = observer ? performance.now() : 0;
    let pattern = 'unmatched';
    for (const [name, value] of commonHeaders) res.setHeader(name, value);
    try {
      const url = req.url ?? '/';
      if (url.length > MAX_URL_LENGTH) throw new InvalidArgumentError('request URL too long');
      const queryAt = url.indexOf('?');
      const rawPath = queryAt < 0 ? url : url.slice(0, queryAt);
      const query = new URLSearchParams(queryAt < 0 ? '' : url.slice(queryAt + 1));
      let path: string;
      try {
        path = decodeURIComponent(rawPath);
      } catch {
        throw new InvalidArgumentError(`invalid URL escape in ${JSON.stringify(rawPath)}`);
      }
      const versioned = VERSION_PREFIX.exec(path);
      const route = router.match(req.method ?? 'GET', versioned ? (versioned[2] ?? '') : path);
      if (!route) throw new NotFoundError('page not found');
      pattern = route.pattern;
      const version = requestVersion(versioned?.[1]);
      await route.handler({ req, res, version, params: route.params, query });
    } catch (err) {
      const status = statusOf(err);
      const error = errorMessage(err);
      // Store corruption was logged at error, with the images it breaks, where it was read (corrupt-blob-report.ts).
      if (errorKind(err) === 'data-loss') log.debug(`${req.method} ${req.url}: ${error}`);
      else if (clientGone(req, res, err)) log.info(`${req.method} ${req.url}: client went away: ${error}`);
      // A 501 is an answer (what Lading does not do), not a failure: no stack in the log.
      else if (status === 501) log.info(`${req.method} ${req.url}: ${error}`);
      // A 5xx is a bug: its stack, unless the operation log gave it already. A client's mistake is one line.
      else if (status >= 500 && !wasLogged(err)) log.error(`Handler for ${req.method} ${req.url} returned error`, { status, error, stack: (err as Error)?.stack });
      else if (status < 500) log.debug(`Handler for ${req.method} ${req.url} returned error`, { status, error });
      // A refused upload: the rest of the body is discarded for a moment while the client reads the answer.
      refuseRestOfUpload(req, res);
      writeError(res, err);
    }
    if (log.debugEnabled) log.debug(`${req.method} ${req.url} ${res.statusCode}`);
    observer?.request(methodLabel(req.method), pattern, res.statusCode, (performance.now() - started) / 1000);
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    // The hot path: an inspect already rendered for this very URL, sent without parsing or routing.
    const started = observer ? performance.now() : 0;
    const hit = req.method === 'GET' ? inspectResponses.serve(req.url ?? '', images.generation, res) : undefined;
    if (hit !== undefined) {
      if (log.debugEnabled) log.debug(`${req.method} ${req.url} 200`);
      observer?.request('GET', CACHED_ROUTE[hit], 200, (performance.now() - started) / 1000);
      return;
    }
    void handle(req, res);
  };

  // HTTP or HTTPS, header limits, no whole-request deadline, stalled uploads cut (connection-guards.ts).
  return createGuardedServer(options, log, listener);
}

function methodLabel(method: string | undefined): string {
  return method !== undefined && KNOWN_METHODS.has(method) ? method : 'other';
}
