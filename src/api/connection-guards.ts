/**
 * What keeps a slow, hostile or vanished client from tying the daemon up: HTTP or HTTPS server
 * options (header size and time limits, no whole-request deadline so that a docker load may stream
 * for as long as it needs), an idle timeout on uploads, and Docker-style error bodies for requests
 * Node's parser refuses before any route sees them.
 */
import {
  createServer as createHttpServer,
  STATUS_CODES,
  type IncomingMessage,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TlsOptions } from 'node:tls';
import type { Logger } from '../util/logger.js';
import { errorBody } from './http-errors.js';

export interface ApiServerOptions {
  /** Serve HTTPS with these options (key pair, CA, client certificate policy). */
  tls?: TlsOptions;
  /** Time a client has to send the request line and headers (and, with TLS, to finish the handshake). */
  headersTimeoutMs?: number;
  /** An upload that sends no byte for this long while the daemon waits for one is cut; 0: never. */
  uploadIdleTimeoutMs?: number;
}

/** Request line plus headers. Go's servers allow 1 MiB; this is ample for X-Registry-Auth. */
export const MAX_HEADER_BYTES = 256 * 1024;
const KEEP_ALIVE_TIMEOUT_MS = 30_000;

export class UploadStalledError extends Error {
  readonly code = 'ERR_UPLOAD_STALLED';
}

/** An HTTP (or HTTPS) server for the API handler, with the guards above. */
export function createGuardedServer(
  options: ApiServerOptions,
  log: Logger,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Server {
  const headersTimeout = options.headersTimeoutMs ?? 60_000;
  const base: ServerOptions = {
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    maxHeaderSize: MAX_HEADER_BYTES,
    headersTimeout,
    // Node's default (300 s for the whole request, body included) would cut a long docker load;
    // stalled bodies are caught by the upload idle timeout instead.
    requestTimeout: 0,
    // How often Node looks for connections past headersTimeout.
    connectionsCheckingInterval: Math.max(250, Math.min(30_000, Math.floor(headersTimeout / 4))),
  };
  const idle = options.uploadIdleTimeoutMs ?? 60_000;
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    if (idle > 0) watchUpload(req, res, idle, log);
    handler(req, res);
  };
  const server: Server = options.tls
    ? (createHttpsServer({ ...options.tls, ...base, handshakeTimeout: headersTimeout }, listener) as unknown as Server)
    : createHttpServer(base, listener);
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => answerClientError(err, socket, log));
  if (options.tls) {
    server.on('tlsClientError', (err: Error, socket: Socket) => {
      log.debug(`TLS handshake with ${socket.remoteAddress ?? 'a client'} failed: ${err.message}`);
    });
  }
  return server;
}

/**
 * Cuts an upload when the daemon waits for body bytes and none come for `ms`. Time the daemon
 * itself spends not reading (writing a blob, a slow disk) does not count: data waiting in the
 * request's buffer shows that the client is not the one stalling.
 */
function watchUpload(req: IncomingMessage, res: ServerResponse, ms: number, log: Logger): void {
  if (!expectsBody(req) || req.complete) return;
  const socket = req.socket;
  // On the response: Node emits 'timeout' there whether or not the body is complete, and a
  // listener keeps it from destroying the socket on its own.
  res.on('timeout', () => {
    if (req.complete) {
      // All of it arrived; the daemon is still reading it, which is no reason to hang up.
      if (!res.writableEnded) socket.setTimeout(0);
      return;
    }
    if (req.readableLength > 0) {
      socket.setTimeout(ms);
      return;
    }
    log.warn(`${req.method} ${req.url}: no request data for ${ms / 1000}s; closing the connection`);
    req.destroy(new UploadStalledError(`upload stalled: no data for ${ms / 1000}s`));
    socket.destroy();
  });
  // Once the body is in, the response may take its time (and Node's keep-alive timer takes over).
  req.once('end', () => {
    if (!res.writableEnded) socket.setTimeout(0);
  });
  socket.setTimeout(ms);
}

/** A body was announced (a GET's `complete` may still be false while its handler runs). */
function expectsBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** True when the client went away (or was cut) before the request was answered. */
export function clientGone(req: IncomingMessage, res: ServerResponse, err?: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return (
    (req.destroyed && !req.complete) ||
    (res.destroyed && !res.writableFinished) ||
    code === 'ECONNRESET' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    code === 'ERR_UPLOAD_STALLED'
  );
}

/** Node refused a request before routing (bad syntax, headers too large or too slow): say so as Docker would. */
function answerClientError(err: Error & { code?: string }, socket: Duplex, log: Logger): void {
  // A response in progress on this connection: nothing sensible can be written any more.
  const busy = ((socket as Duplex & { _httpMessage?: unknown })._httpMessage ?? null) !== null;
  if (err.code === 'ECONNRESET' || !socket.writable || busy) {
    socket.destroy();
    return;
  }
  let status = 400;
  let message = `bad request: ${err.message}`;
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    message = `request line and headers exceed ${MAX_HEADER_BYTES} bytes`;
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    message = 'timed out waiting for the request headers';
  }
  log.debug(`refused a request before routing: ${status} ${message}`);
  const body = errorBody(message);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.toString()}`,
  );
  (socket as Socket).destroySoon?.();
}

/** How long, and how much more, a refused upload's client may send while it reads the answer. */
const LINGER_MS = 2_000;
const LINGER_BYTES = 64 * 1024 * 1024;

/**
 * An answer is about to go out before the request body was read to its end: the rest is not
 * wanted, but it is read and discarded for a moment, so that a client still writing gets to read
 * the answer instead of a broken pipe (Go's server lingers likewise). A client that keeps sending
 * past a short time or a few MiB is cut, so an abandoned upload can neither hold the connection
 * nor be drained for hours. No `Connection: close`: Node's server would then close the socket as
 * soon as the answer is out, mid-upload; a body drained to its end leaves the connection usable.
 */
export function refuseRestOfUpload(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete || req.destroyed || !expectsBody(req)) return;
  const socket = req.socket;
  const cut = (): void => {
    socket.destroy();
  };
  // A reader that gave up (an async iterator) leaves a 'readable' listener, which makes resume() a no-op.
  req.removeAllListeners('readable');
  req.on('error', () => undefined);
  let discarded = 0;
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > LINGER_BYTES) cut();
  });
  req.resume();
  const linger = (): void => {
    if (req.complete) return;
    const timer = setTimeout(cut, LINGER_MS);
    timer.unref();
    req.once('end', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
  };
  if (res.writableFinished) linger();
  else res.once('finish', linger);
}
