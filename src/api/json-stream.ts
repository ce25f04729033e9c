import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeAuthConfigLenient, type AuthConfig } from '../registry/auth-config.js';
import { goMarshal } from '../util/go-json.js';
import { versionAtLeast } from './api-version.js';
import { errorMessage } from './http-errors.js';

/**
 * Docker's JSON message stream (pull, load, push): one JSON object per line, ended by `\r\n`,
 * encoded as Go's json.Marshal encodes jsonmessage.JSONMessage.
 */
export class JsonMessageStream {
  constructor(private readonly res: ServerResponse) {}

  start(): void {
    if (!this.res.headersSent) this.res.writeHead(200, { 'Content-Type': 'application/json' });
  }

  write(message: object): void {
    this.start();
    this.res.write(goMarshal(message) + '\r\n');
  }

  stream(text: string): void {
    this.write({ stream: text });
  }

  /** An error once the stream has begun: the status is already 200, so it goes in the stream. */
  error(message: string): void {
    this.write({ errorDetail: { message }, error: message });
  }

  end(): void {
    this.start();
    this.res.end();
  }
}

export interface StreamOptions {
  /** The operation reads the request body itself. */
  readsBody?: boolean;
}

/**
 * Runs an operation that reports Docker's JSON messages (pull, push, load, import) as the answer: an error
 * before the first message is thrown (an HTTP error), one after it goes in the stream. A client
 * that goes away cancels the operation, as Docker's request context does. The request body is
 * drained unless the operation `readsBody`. The pre-rendered `progress` bar goes beside
 * `progressDetail` up to API 1.51, as Docker 28.5 writes it; Docker 29's streamformatter writes
 * none, for every stream, so from 1.52 it is left out.
 */
export async function streamMessages(
  req: IncomingMessage,
  res: ServerResponse,
  version: string,
  run: (write: (message: object) => void, signal: AbortSignal) => Promise<void>,
  { readsBody = false }: StreamOptions = {},
): Promise<void> {
  const progressBars = !versionAtLeast(version, '1.52');
  const abort = new AbortController();
  res.on('close', () => {
    // An AbortError, as Node's own cancellations: the operation log takes it as the client's doing, not a bug.
    if (!res.writableFinished) abort.abort(new DOMException('client disconnected', 'AbortError'));
  });
  if (!readsBody) req.resume();
  const stream = new JsonMessageStream(res);
  try {
    await run((message) => stream.write(progressBars ? message : withoutProgressBar(message)), abort.signal);
  } catch (err) {
    if (!res.headersSent) throw err;
    stream.error(errorMessage(err));
  }
  stream.end();
}

function withoutProgressBar(message: object): object {
  if (!('progress' in message)) return message;
  const { progress: _bar, ...rest } = message as { progress?: unknown };
  return rest;
}

/** `X-Registry-Auth`; credentials that do not decode count as none (Docker 28's pull and push). */
export function registryAuth(req: IncomingMessage): AuthConfig {
  const header = req.headers['x-registry-auth'];
  return decodeAuthConfigLenient(Array.isArray(header) ? header[0] : header);
}
