import { createReadStream } from 'node:fs';
import http from 'node:http';
import type { Readable } from 'node:stream';

/** POSTs a file as the request body over a unix socket, streamed; resolves the status and the response text. */
export function postFile(socket: string, urlPath: string, file: string): Promise<{ status: number; text: string }> {
  return postBody(socket, urlPath, createReadStream(file, { highWaterMark: 1024 * 1024 }));
}

/** POSTs a stream of tar bytes as the request body over a unix socket; resolves the status and the response text. */
export function postBody(socket: string, urlPath: string, body: Readable): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath: socket, path: urlPath, method: 'POST', headers: { Host: 'docker', 'Content-Type': 'application/x-tar' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    body.on('error', reject);
    body.pipe(req);
  });
}
