import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { InvalidArgumentError, isNoSpaceErrno, NoSpaceError, NotFoundError } from '../errors.js';
import { hexOf, isDigest } from '../oci/digest.js';
import { syncDir } from '../util/sync-dir.js';
import { checkExpected, writeWhole, type BeforePublish, type BlobInfo, type BlobWriter, type ContentStore } from './content-store.js';
import { verifiedBytes, verifiedStream } from './verified-read.js';

/** Manifests and configs are small; a larger "JSON" blob is refused rather than read into memory. */
export const DEFAULT_MAX_JSON_BYTES = 4 * 1024 * 1024;

/**
 * Blobs as files: `<root>/blobs/sha256/<hex>`, written first to `<root>/ingest/<random>`, then
 * fsynced and renamed into place, so a reader never sees a half-written blob and a crash leaves
 * only ingest files behind (removed at start).
 */
export class FsContentStore implements ContentStore {
  private readonly blobDir: string;
  private readonly ingestDir: string;

  constructor(root: string) {
    this.blobDir = path.join(root, 'blobs', 'sha256');
    this.ingestDir = path.join(root, 'ingest');
  }

  async init(): Promise<void> {
    await fs.mkdir(this.blobDir, { recursive: true });
    await fs.mkdir(this.ingestDir, { recursive: true });
  }

  private blobPath(digest: string): string {
    if (!isDigest(digest)) throw new InvalidArgumentError(`invalid digest: ${JSON.stringify(digest)}`);
    return path.join(this.blobDir, hexOf(digest));
  }

  async info(digest: string): Promise<BlobInfo | undefined> {
    try {
      const st = await fs.stat(this.blobPath(digest));
      return { digest, size: st.size };
    } catch (err) {
      if (isNoEntry(err)) return undefined;
      throw err;
    }
  }

  async has(digest: string): Promise<boolean> {
    return (await this.info(digest)) !== undefined;
  }

  async readBytes(digest: string, maxBytes = DEFAULT_MAX_JSON_BYTES): Promise<Buffer> {
    let handle;
    try {
      handle = await fs.open(this.blobPath(digest), 'r');
    } catch (err) {
      if (isNoEntry(err)) throw new NotFoundError(`content ${digest}: not found`);
      throw err;
    }
    try {
      const { size } = await handle.stat();
      if (size > maxBytes) {
        throw new InvalidArgumentError(`content ${digest} is ${size} bytes, more than the limit of ${maxBytes}`);
      }
      return verifiedBytes(await handle.readFile(), digest);
    } finally {
      await handle.close();
    }
  }

  createReadStream(digest: string): Readable {
    return verifiedStream(createReadStream(this.blobPath(digest)), digest);
  }

  blobFile(digest: string): string {
    return this.blobPath(digest);
  }

  async openWriter(): Promise<BlobWriter> {
    const file = path.join(this.ingestDir, randomBytes(12).toString('hex'));
    const handle = await fs.open(file, 'wx', 0o644).catch((err: unknown) => {
      throw noSpaceOr(err, file);
    });
    return new FsBlobWriter(handle, file, (digest) => this.blobPath(digest), this.blobDir);
  }

  writeBytes(data: Uint8Array, expected?: Partial<BlobInfo>): Promise<BlobInfo> {
    return writeWhole(() => this.openWriter(), data, expected);
  }

  async delete(digest: string): Promise<boolean> {
    try {
      await fs.unlink(this.blobPath(digest));
      return true;
    } catch (err) {
      if (isNoEntry(err)) return false;
      throw err;
    }
  }

  async *list(): AsyncIterable<BlobInfo> {
    const dir = await fs.opendir(this.blobDir);
    for await (const entry of dir) {
      if (!entry.isFile() || !/^[a-f0-9]{64}$/.test(entry.name)) continue;
      const st = await fs.stat(path.join(this.blobDir, entry.name)).catch(() => undefined);
      if (st) yield { digest: `sha256:${entry.name}`, size: st.size };
    }
  }

  async cleanIngest(): Promise<number> {
    const names = await fs.readdir(this.ingestDir);
    await Promise.all(names.map((name) => fs.rm(path.join(this.ingestDir, name), { force: true })));
    return names.length;
  }
}

/** Bytes a writer queues for the disk before `write` makes its caller wait. */
const WRITE_HIGH_WATER = 8 * 1024 * 1024;
/** Buffers handed to one writev (Linux's IOV_MAX is 1024). */
const WRITEV_MAX_BUFFERS = 256;

/**
 * Hashes what it is given at once and writes it to the ingest file in the background, in order,
 * batched into writevs, so that the caller's next chunk overlaps the disk. `write` resolves at once
 * while less than WRITE_HIGH_WATER is queued. The chunks are kept until written: callers must not
 * reuse them.
 */
class FsBlobWriter implements BlobWriter {
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  private done = false;
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private position = 0;
  private flushing: Promise<void> | undefined;
  private failure: unknown;
  private readonly waiters: Array<() => void> = [];
  private onWritten: ((bytes: number) => void) | undefined;

  constructor(
    private readonly handle: fs.FileHandle,
    private readonly file: string,
    private readonly blobPath: (digest: string) => string,
    private readonly blobDir: string,
  ) {}

  get written(): number {
    return this.bytes;
  }

  follow(onWritten: (bytes: number) => void): { file: string; written: number } {
    this.onWritten = onWritten;
    return { file: this.file, written: this.position };
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.done) throw new Error('write after commit or abort');
    if (this.failure) throw this.failure;
    if (chunk.byteLength === 0) return;
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
    this.queue.push(chunk);
    this.queued += chunk.byteLength;
    this.flushing ??= this.flush();
    if (this.queued >= WRITE_HIGH_WATER) await new Promise<void>((resolve) => this.waiters.push(resolve));
    if (this.failure) throw this.failure;
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0 && this.failure === undefined) {
        const batch = this.queue.splice(0, WRITEV_MAX_BUFFERS);
        let length = 0;
        for (const buffer of batch) length += buffer.byteLength;
        try {
          await writeAll(this.handle, batch, this.position);
        } catch (err) {
          this.failure = noSpaceOr(err, this.file);
        }
        this.position += length;
        this.queued -= length;
        if (this.failure === undefined) this.onWritten?.(this.position);
        if (this.queued < WRITE_HIGH_WATER) this.releaseWaiters();
      }
    } finally {
      this.flushing = undefined;
      this.releaseWaiters();
    }
  }

  private releaseWaiters(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  /** Waits for the queued writes; throws what failed among them. */
  private async flushed(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.failure) throw this.failure;
  }

  async commit(expected?: Partial<BlobInfo>, beforePublish?: BeforePublish): Promise<BlobInfo> {
    if (this.done) throw new Error('commit after commit or abort');
    this.done = true;
    const digest = 'sha256:' + this.hash.digest('hex');
    const size = this.bytes;
    try {
      checkExpected(expected, { digest, size });
      await this.flushed();
      await this.handle.sync();
      await this.handle.close();
      await beforePublish?.({ digest, size });
      const target = this.blobPath(digest);
      // A blob already present was verified when it was written: keep it, drop the copy.
      if (await exists(target)) {
        await fs.rm(this.file, { force: true });
      } else {
        await fs.rename(this.file, target);
        await syncDir(this.blobDir);
      }
      return { digest, size };
    } catch (err) {
      await this.flushed().catch(() => undefined);
      await this.handle.close().catch(() => undefined);
      await fs.rm(this.file, { force: true });
      throw noSpaceOr(err, this.file);
    }
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.queue.length = 0;
    await this.flushed().catch(() => undefined);
    await this.handle.close().catch(() => undefined);
    await fs.rm(this.file, { force: true });
  }
}

/** Writes all of `buffers` at `position`, however many calls it takes. */
async function writeAll(handle: fs.FileHandle, buffers: Uint8Array[], position: number): Promise<void> {
  let rest = buffers;
  let at = position;
  while (rest.length > 0) {
    let { bytesWritten } = await handle.writev(rest, at);
    at += bytesWritten;
    let i = 0;
    while (i < rest.length && bytesWritten >= rest[i]!.byteLength) bytesWritten -= rest[i++]!.byteLength;
    rest = rest.slice(i);
    if (bytesWritten > 0) rest[0] = rest[0]!.subarray(bytesWritten);
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

/** A write the disk had no room for, said as such (the data root's disk is full); anything else as it was. */
function noSpaceOr(err: unknown, file: string): unknown {
  return isNoSpaceErrno(err) ? new NoSpaceError(file, { cause: err }) : err;
}

function isNoEntry(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
