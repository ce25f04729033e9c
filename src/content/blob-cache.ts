import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { hexOf } from '../oci/digest.js';
import { syncDir } from '../util/sync-dir.js';

/** --blob-cache-size's default. */
export const DEFAULT_BLOB_CACHE_BYTES = 10 * 1024 ** 3;

/**
 * A replica's bounded copy of the registry tier's blobs on its own disk: `<root>/blobs/<hex>`,
 * written through `<root>/ingest/`, evicted least recently used first once the bytes kept pass
 * `maxBytes`. Only verified blobs are admitted (the caller hashes them on the way in). Recency lives
 * in memory, from the files' access times at start; a file being read when evicted stays readable
 * to that reader (unlinked, not truncated).
 */
export class BlobCache {
  private readonly blobDir: string;
  private readonly ingestDir: string;
  /** digest → size, least recently used first (a Map keeps insertion order). */
  private readonly entries = new Map<string, number>();
  private total = 0;

  constructor(
    root: string,
    readonly maxBytes: number,
  ) {
    this.blobDir = path.join(root, 'blobs');
    this.ingestDir = path.join(root, 'ingest');
  }

  async init(): Promise<void> {
    await fs.mkdir(this.blobDir, { recursive: true });
    await fs.mkdir(this.ingestDir, { recursive: true });
    const found: Array<{ digest: string; size: number; used: number }> = [];
    for (const name of await fs.readdir(this.blobDir)) {
      if (!/^[a-f0-9]{64}$/.test(name)) continue;
      const st = await fs.stat(path.join(this.blobDir, name)).catch(() => undefined);
      if (st) found.push({ digest: `sha256:${name}`, size: st.size, used: Math.max(st.atimeMs, st.mtimeMs) });
    }
    for (const f of found.sort((a, b) => a.used - b.used)) this.add(f.digest, f.size);
    await this.evictOver(undefined);
  }

  /** Bytes kept now. */
  get size(): number {
    return this.total;
  }

  /** The cached blob's size, marking it as just used; undefined when not cached. */
  lookup(digest: string): number | undefined {
    const size = this.entries.get(digest);
    if (size === undefined) return undefined;
    this.entries.delete(digest);
    this.entries.set(digest, size);
    return size;
  }

  /** Opens a cached blob for reading (marking it used), or undefined; once open, eviction cannot take it. */
  async open(digest: string): Promise<fs.FileHandle | undefined> {
    if (this.lookup(digest) === undefined) return undefined;
    try {
      return await fs.open(this.file(digest), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.forget(digest);
      return undefined;
    }
  }

  /** A new file in the ingest area, for a blob on its way in. */
  ingestFile(): string {
    return path.join(this.ingestDir, randomBytes(12).toString('hex'));
  }

  /** Whether a blob of `size` bytes is ever kept. */
  fits(size: number): boolean {
    return size <= this.maxBytes;
  }

  /**
   * Moves `file` (the verified bytes of `digest`, synced) into the cache, or removes it when the
   * blob is larger than the whole cache; then evicts the least recently used past the bound.
   */
  async admit(file: string, digest: string, size: number): Promise<void> {
    if (!this.fits(size) || this.entries.has(digest)) {
      await fs.rm(file, { force: true });
      if (this.entries.has(digest)) this.lookup(digest);
      return;
    }
    await fs.rename(file, this.file(digest));
    await syncDir(this.blobDir);
    this.add(digest, size);
    await this.evictOver(digest);
  }

  /** Drops a blob from the cache; false when it was not there. */
  async evict(digest: string): Promise<boolean> {
    const had = this.forget(digest);
    await fs.rm(this.file(digest), { force: true });
    return had;
  }

  /** The cached blobs. */
  list(): Array<{ digest: string; size: number }> {
    return [...this.entries].map(([digest, size]) => ({ digest, size }));
  }

  /** Removes every ingest file (writes and read-throughs a crash interrupted); returns how many. */
  async cleanIngest(): Promise<number> {
    const names = await fs.readdir(this.ingestDir);
    await Promise.all(names.map((name) => fs.rm(path.join(this.ingestDir, name), { force: true })));
    return names.length;
  }

  private file(digest: string): string {
    return path.join(this.blobDir, hexOf(digest));
  }

  private add(digest: string, size: number): void {
    this.entries.set(digest, size);
    this.total += size;
  }

  private forget(digest: string): boolean {
    const size = this.entries.get(digest);
    if (size === undefined) return false;
    this.entries.delete(digest);
    this.total -= size;
    return true;
  }

  private async evictOver(keep: string | undefined): Promise<void> {
    for (const digest of this.entries.keys()) {
      if (this.total <= this.maxBytes) return;
      if (digest !== keep) await this.evict(digest);
    }
  }
}
