/** Test helpers: tars built in memory, a zstd encoder of raw blocks, chunked bodies, temp stores. */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tar from 'tar-stream';
import { FsContentStore } from '../../content/fs-content-store.js';

export interface TarEntrySpec {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  data?: Buffer | string;
  mode?: number;
  linkname?: string;
}

// Fixed times and owners keep every fixture byte-identical from run to run.
const MTIME = new Date('2025-01-01T00:00:00Z');

export async function buildTar(entries: readonly TarEntrySpec[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pack.on('data', (b: unknown) => chunks.push(b as Buffer));
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : type === 'symlink' ? 0o777 : 0o644),
      mtime: MTIME,
      uid: 0,
      gid: 0,
      uname: 'root',
      gname: 'root',
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (type === 'file') pack.entry(header, Buffer.from(e.data ?? ''), cb);
      else pack.entry(header, cb);
    });
  }
  pack.finalize();
  return done;
}

/** A valid zstd frame made of raw (stored) blocks: enough to exercise the decoder without an encoder. */
export function zstdStored(data: Buffer): Buffer {
  const maxBlock = 128 * 1024;
  // Magic, frame header descriptor (no content size, no checksum), window descriptor 2^17.
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])];
  let offset = 0;
  do {
    const size = Math.min(maxBlock, data.length - offset);
    const last = offset + size >= data.length ? 1 : 0;
    const header = (size << 3) | last; // block type 0: raw
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]));
    parts.push(data.subarray(offset, offset + size));
    offset += size;
  } while (offset < data.length);
  return Buffer.concat(parts);
}

export function sha256(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

export function hexOf(digest: string): string {
  return digest.slice('sha256:'.length);
}

/** Feeds a buffer in small, uneven chunks, as a network body arrives. */
export async function* chunked(data: Buffer, sizes: readonly number[] = [1, 7, 300, 4096, 65536]): AsyncGenerator<Uint8Array> {
  let offset = 0;
  let i = 0;
  while (offset < data.length) {
    const size = sizes[i++ % sizes.length] ?? 1024;
    yield data.subarray(offset, offset + size);
    offset += size;
  }
}

export async function tempStore(): Promise<{ store: FsContentStore; root: string; cleanup: () => void }> {
  const root = mkdtempSync(path.join(tmpdir(), 'lading-transfer-'));
  const store = new FsContentStore(root);
  await store.init();
  return { store, root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
