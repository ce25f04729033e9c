import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';

/**
 * Offline verification of the content store's files, for `ladingd check`. It reads the layout
 * FsContentStore writes (`<root>/blobs/sha256/<hex>`, `<root>/ingest/<random>`) directly, so that it
 * sees what the store would hide: files with names that are no digest, and leftovers of writes.
 */

/** What one file under `blobs/` turned out to be. */
export type BlobFinding =
  /** A blob whose bytes hash to its name. */
  | { kind: 'ok'; digest: string; size: number }
  /** A blob whose bytes hash to something else: damaged on disk or written behind the store's back. */
  | { kind: 'corrupt'; digest: string; size: number; actual: string; file: string }
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

/** The sha256 digest of a file, streamed (layers can be large). */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return 'sha256:' + hash.digest('hex');
}

/**
 * Every entry under `<contentRoot>/blobs`, each blob hashed against its name. A blob that vanishes
 * while the scan runs is skipped. Findings come in no particular order.
 */
export async function scanBlobs(contentRoot: string, options: ScanOptions = {}): Promise<BlobFinding[]> {
  const findings: BlobFinding[] = [];
  const top = path.join(contentRoot, 'blobs');
  for (const entry of await readdirOrEmpty(top)) {
    if (entry.name === 'sha256' && entry.isDirectory()) continue;
    findings.push({ kind: 'stray', file: path.join(top, entry.name), what: describe(entry), isFile: entry.isFile() });
  }
  const dir = blobDir(contentRoot);
  const blobs: string[] = [];
  for (const entry of await readdirOrEmpty(dir)) {
    const file = path.join(dir, entry.name);
    if (!entry.isFile()) findings.push({ kind: 'stray', file, what: describe(entry), isFile: false });
    else if (!HEX64.test(entry.name)) findings.push({ kind: 'stray', file, what: 'a file whose name is no sha256 digest', isFile: true });
    else blobs.push(entry.name);
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < blobs.length) {
      const hex = blobs[next++]!;
      const file = path.join(dir, hex);
      const digest = `sha256:${hex}`;
      try {
        const { size } = await fs.stat(file);
        const actual = await sha256File(file);
        findings.push(actual === digest ? { kind: 'ok', digest, size } : { kind: 'corrupt', digest, size, actual, file });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  return findings;
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
