import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { TlsOptions } from 'node:tls';
import { createGuardedServer } from '../api/connection-guards.js';
import type { Logger } from '../util/logger.js';
import type { LadingMetrics } from './lading-metrics.js';

/**
 * The `--metrics-addr` listener: `/metrics` and nothing else, as dockerd's startMetricsServer mux
 * (any other path is Go's `404 page not found`). The Docker API is never served here, and `/metrics`
 * is never served on the API's sockets. With the API's TLS, the same certificate policy applies.
 */
export function createMetricsServer(metrics: LadingMetrics, log: Logger, tls?: TlsOptions): Server {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    if ((queryAt < 0 ? url : url.slice(0, queryAt)) !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end('404 page not found\n');
      return;
    }
    try {
      const body = await metrics.text();
      res.writeHead(200, { 'Content-Type': metrics.contentType, 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      log.warn(`GET /metrics: ${(err as Error).message}`);
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`An error has occurred while serving metrics:\n\n${(err as Error).message}\n`);
    }
  };
  return createGuardedServer({ ...(tls ? { tls } : {}), uploadIdleTimeoutMs: 0 }, log, (req, res) => void handle(req, res));
}
