/**
 * The page's files, built by Vite into dist/web/explorer (`npm run build`) and shipped with the
 * package: served from there only, never from the network. A path that names no file gets
 * index.html, the single page routing itself.
 */
import { promises as fs } from 'node:fs';
import type { ServerResponse } from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/web/explorer, from dist/src/explorer/. */
export const PAGE_DIR = fileURLToPath(new URL('../../web/explorer/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
};

export async function serveStatic(res: ServerResponse, dir: string, rel: string): Promise<void> {
  const clean = path.posix.normalize(`/${rel}`).slice(1);
  let file = path.join(dir, clean);
  if (!file.startsWith(dir) || clean === '' || !(await isFile(file))) file = path.join(dir, 'index.html');
  let body: Buffer;
  try {
    body = await fs.readFile(file);
  } catch {
    const text = 'The explorer page is not built: run `npm run build` in the Lading checkout.\n';
    res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
    return;
  }
  // Vite names its assets by content: they may be kept; index.html names the current ones.
  const immutable = file.includes(`${path.sep}assets${path.sep}`);
  res.writeHead(200, {
    'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    'Content-Length': body.length,
    'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  res.end(body);
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}
