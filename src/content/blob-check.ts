import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BlobCorruptError, type BlobInfo, type ContentStore } from './content-store.js';
import { FsContentStore } from './fs-content-store.js';

/**
 * Offline verification of the content store, for `ladingd check`. Blobs are read through the
 * ContentStore interface (verifyBlobs), so any store is checked the same way; what only the
 * layout FsContentStore writes can hold (files whose names are no digest, leftovers of writes in
 * `<root>/ingest/`) is read from its folders directly.
 */

/** What one file under `blobs/` turned out to be. */
export type BlobFinding =
  /** A blob whose bytes hash to its name. */
  | { kind: 'ok'; digest: string; size: number }
  /** A blob whose bytes hash to something else: damaged on disk or written behind the store's back. */
  | { kind: 'corrupt'; digest: string; size: number; actual: string }
  /** Anything else there: a file whose name is no sha256 hex, a directory, a link. */
  | { kind: 'stray'; file: string; what: string; isFile: boolean };

export interface ScanOptions {
  /** Files hashed at once (reads overlap; hashing is one core's work anyway). */
  concurrency?: number;
}

const HEX64 = /^[a-f0-9]{64}$/;

export function blobDir(contentRoot: string): string {
  return path.join(contentRoot, 'blobs', 'sha256');
}

export function ingestDir(contentRoot: string): string {
  return path.join(contentRoot, 'ingest');
}

/**
 * Every entry under `<contentRoot>/blobs` that FsContentStore's list would pass over: a file whose
 * name is no sha256 digest, a directory, a link.
 */
export async function strayFiles(contentRoot: string): Promise<Array<Extract<BlobFinding, { kind: 'stray' }>>> {
  const strays: Array<Extract<BlobFinding, { kind: 'stray' }>> = [];
  const top = path.join(contentRoot, 'blobs');
  for (const entry of await readdirOrEmpty(top)) {
    if (entry.name === 'sha256' && entry.isDirectory()) continue;
    strays.push({ kind: 'stray', file: path.join(top, entry.name), what: describe(entry), isFile: entry.isFile() });
  }
  const dir = blobDir(contentRoot);
  for (const entry of await readdirOrEmpty(dir)) {
    const file = path.join(dir, entry.name);
    if (!entry.isFile()) strays.push({ kind: 'stray', file, what: describe(entry), isFile: false });
    else if (!HEX64.test(entry.name)) strays.push({ kind: 'stray', file, what: 'a file whose name is no sha256 digest', isFile: true });
  }
  return strays;
}

/**
 * Every blob `content` lists, read through the store, which hashes what it reads against the
 * digest (a BlobCorruptError when they differ): any ContentStore is checked so. A blob that
 * vanishes while the scan runs is skipped. Findings come in no particular order.
 */
export async function verifyBlobs(content: ContentStore, options: ScanOptions = {}): Promise<BlobFinding[]> {
  const findings: BlobFinding[] = [];
  const blobs: BlobInfo[] = [];
  try {
    for await (const info of content.list()) blobs.push(info);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < blobs.length) {
      const { digest, size } = blobs[next++]!;
      try {
        // Read to the end for the store's check; the bytes themselves are not needed.
        for await (const chunk of content.createReadStream(digest)) void chunk;
        findings.push({ kind: 'ok', digest, size });
      } catch (err) {
        if (err instanceof BlobCorruptError) findings.push({ kind: 'corrupt', digest, size, actual: err.actual });
        else if (await content.has(digest)) throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  return findings;
}

/** The files of an FsContentStore at `contentRoot` checked: strays named, every blob hashed. */
export async function scanBlobs(contentRoot: string, options: ScanOptions = {}): Promise<BlobFinding[]> {
  return [...(await strayFiles(contentRoot)), ...(await verifyBlobs(new FsContentStore(contentRoot), options))];
}

/** Files left in the ingest area: writes that never finished (a daemon killed mid-write). */
export async function ingestLeftovers(contentRoot: string): Promise<Array<{ file: string; size: number }>> {
  const dir = ingestDir(contentRoot);
  const out: Array<{ file: string; size: number }> = [];
  for (const entry of await readdirOrEmpty(dir)) {
    const file = path.join(dir, entry.name);
    const st = await fs.lstat(file).catch(() => undefined);
    if (st) out.push({ file, size: st.size });
  }
  return out;
}

async function readdirOrEmpty(dir: string): Promise<import('node:fs').Dirent[]> {
  try {
    return await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

function describe(entry: import('node:fs').Dirent): string {
  if (entry.isDirectory()) return 'a directory';
  if (entry.isSymbolicLink()) return 'a symbolic link';
  if (entry.isFile()) return 'a file';
  return 'a special file';
}
