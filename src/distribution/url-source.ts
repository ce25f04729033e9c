/**
 * `docker import URL`: the body of an HTTP(S) GET, as Docker's remotecontext.GetWithStatusError
 * fetches it (redirects followed; a status of 400 or more is an error carrying the body's text).
 */
import http from 'node:http';
import https from 'node:https';
import { InvalidArgumentError, LadingError } from '../errors.js';
import { requestErrorText } from '../registry/http-client.js';

export interface UrlBody {
  body: AsyncIterable<Uint8Array>;
  /** Content-Length, or -1 when the server sent none. */
  length: number;
}

const MAX_REDIRECTS = 10;

export async function openUrl(url: URL, signal?: AbortSignal, redirects = 0): Promise<UrlBody> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError(`unsupported protocol scheme "${url.protocol.replace(/:$/, '')}"`);
  }
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).get(url, { ...(signal ? { signal } : {}) }, resolve);
    req.on('error', (err) => reject(new LadingError('internal', requestErrorText('GET', url, err), { cause: err })));
  });
  const status = res.statusCode ?? 0;
  if (status >= 300 && status < 400 && res.headers.location) {
    res.resume();
    if (redirects >= MAX_REDIRECTS) throw new LadingError('internal', `Get "${url.href}": stopped after ${MAX_REDIRECTS} redirects`);
    return openUrl(new URL(res.headers.location, url), signal, redirects + 1);
  }
  if (status >= 400) {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res as AsyncIterable<Buffer>) {
      if (size < 64 * 1024) chunks.push(chunk);
      size += chunk.length;
    }
    const text = Buffer.concat(chunks).toString('utf8').trim();
    const kind = status < 500 ? (status === 404 ? 'not-found' : 'invalid-argument') : 'internal';
    throw new LadingError(kind, `failed to GET ${url.href} with status ${status} ${http.STATUS_CODES[status] ?? ''}: ${text}`);
  }
  const length = Number(res.headers['content-length'] ?? -1);
  return { body: res, length: Number.isFinite(length) ? length : -1 };
}
