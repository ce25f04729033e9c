import { createHash, type Hash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { Readable } from 'node:stream';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { parseDigest } from '../oci/digest.js';
import type { BlobCache } from './blob-cache.js';
import { BlobCorruptError, checkExpected, type BeforePublish, writeWhole, type BlobHolds, type BlobInfo, type BlobWriter, type ContentStore } from './content-store.js';
import { DEFAULT_MAX_JSON_BYTES } from './fs-content-store.js';
import { EMPTY_CONFIG, EMPTY_CONFIG_DIGEST, heldBlobs, holderManifest, holderTag, targetOfTag } from './holder-manifest.js';
import { MediaType } from '../oci/media-types.js';
import { ManifestBlobUnknownError, type RemoteBlobs } from './remote-blobs.js';
import { verifiedBytes, verifiedStream } from './verified-read.js';

/**
 * The registry tier (`--blob-store registry://host[:port]/repository`): every blob lives in an
 * OCI-distribution repository, which replicas can share; each replica reads through a bounded
 * cache on its own disk (blob-cache.ts). A write is spooled to the cache's ingest area while it is
 * hashed, checked at commit, uploaded, and only then admitted to the cache: `commit` returns once
 * the registry has the blob. A read of a cached blob touches no network; any other read fetches
 * the blob, hashes it on the way in and caches it only when it matches its digest.
 *
 * The registry's own garbage collector deletes what no tagged manifest lists, so each stored
 * target's blobs are held by a holder manifest (holder-manifest.ts) through `holds`.
 */
export class RegistryContentStore implements ContentStore {
  /** Targets released since start, so that `delete` does not ask the registry again. */
  private readonly released = new Set<string>();

  constructor(
    private readonly remote: RemoteBlobs,
    private readonly cache: BlobCache,
  ) {}

  async info(digest: string): Promise<BlobInfo | undefined> {
    parseDigest(digest);
    const cached = this.cache.lookup(digest);
    if (cached !== undefined) return { digest, size: cached };
    const size = await this.remote.stat(digest);
    return size === undefined ? undefined : { digest, size };
  }

  async has(digest: string): Promise<boolean> {
    return (await this.info(digest)) !== undefined;
  }

  async readBytes(digest: string, maxBytes = DEFAULT_MAX_JSON_BYTES): Promise<Buffer> {
    parseDigest(digest);
    const handle = await this.cache.open(digest);
    if (handle) {
      try {
        const { size } = await handle.stat();
        if (size > maxBytes) throw tooLarge(digest, size, maxBytes);
        return verifiedBytes(await handle.readFile(), digest);
      } catch (err) {
        // A cached copy that no longer matches goes: the next read fetches it again.
        if (err instanceof BlobCorruptError) await this.cache.evict(digest);
        throw err;
      } finally {
        await handle.close();
      }
    }
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of this.fetch(digest, maxBytes)) {
      length += chunk.length;
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, length);
  }

  createReadStream(digest: string): Readable {
    return Readable.from(this.chunks(digest), { objectMode: false });
  }

  private async *chunks(digest: string): AsyncGenerator<Buffer> {
    parseDigest(digest);
    const handle = await this.cache.open(digest);
    if (!handle) {
      yield* this.fetch(digest, Infinity);
      return;
    }
    try {
      for await (const chunk of verifiedStream(handle.createReadStream({ autoClose: false }), digest)) yield chunk as Buffer;
    } catch (err) {
      if (err instanceof BlobCorruptError) await this.cache.evict(digest);
      throw err;
    } finally {
      await handle.close();
    }
  }

  /**
   * The blob from the registry, hashed on the way and written to the cache's ingest area (when it
   * fits). The last chunk is held back until the hash is known, so a reader of wrong bytes never
   * gets all of them; only verified bytes are admitted.
   */
  private async *fetch(digest: string, maxBytes: number): AsyncGenerator<Buffer> {
    const remote = await this.remote.open(digest);
    if (!remote) throw new NotFoundError(`content ${digest}: not found`);
    const { body } = remote;
    if (remote.size !== undefined && remote.size > maxBytes) {
      body.destroy();
      throw tooLarge(digest, remote.size, maxBytes);
    }
    const spool = remote.size === undefined || this.cache.fits(remote.size) ? this.cache.ingestFile() : undefined;
    const out = spool ? await fs.open(spool, 'wx', 0o644) : undefined;
    const hash = createHash('sha256');
    let held: Buffer | undefined;
    let length = 0;
    let admitted = false;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        length += chunk.length;
        if (length > maxBytes) throw tooLarge(digest, length, maxBytes);
        hash.update(chunk);
        if (out) await out.write(chunk);
        if (held) yield held;
        held = chunk;
      }
      const actual = 'sha256:' + hash.digest('hex');
      if (actual !== digest) {
        throw new BlobCorruptError(digest, actual, `content ${digest} from ${this.remote.location} does not match its digest (its bytes hash to ${actual}): not kept`);
      }
      if (out && spool) {
        await out.sync();
        await out.close();
        await this.cache.admit(spool, digest, length);
        admitted = true;
      }
      if (held) yield held;
    } finally {
      body.destroy();
      if (!admitted && out && spool) {
        await out.close().catch(() => undefined);
        await fs.rm(spool, { force: true });
      }
    }
  }

  async openWriter(): Promise<BlobWriter> {
    const file = this.cache.ingestFile();
    const handle = await fs.open(file, 'wx', 0o644);
    return new RegistryBlobWriter(handle, file, async (digest, size) => {
      await this.remote.upload(digest, size, () => createReadStream(file));
      await this.cache.admit(file, digest, size);
    });
  }

  writeBytes(data: Uint8Array, expected?: Partial<BlobInfo>): Promise<BlobInfo> {
    return writeWhole(() => this.openWriter(), data, expected);
  }

  /**
   * Forgets the blob here: its holder goes (when it is a target), the cached copy goes, and it is
   * unlinked from the repository, whose garbage collector reclaims the bytes unless another holder
   * lists them.
   */
  async delete(digest: string): Promise<boolean> {
    parseDigest(digest);
    if (!this.released.delete(digest)) await this.holds.release(digest);
    const cached = await this.cache.evict(digest);
    const remote = await this.remote.deleteBlob(digest);
    return cached || remote;
  }

  /** The cached blobs and those the holders in the repository list. */
  async *list(): AsyncIterable<BlobInfo> {
    const seen = new Set<string>();
    for (const info of this.cache.list()) {
      seen.add(info.digest);
      yield info;
    }
    for (const tag of await this.remote.tags()) {
      if (targetOfTag(tag) === undefined) continue;
      const bytes = await this.remote.getManifest(tag);
      for (const info of bytes ? heldBlobs(bytes) : []) {
        if (seen.has(info.digest)) continue;
        seen.add(info.digest);
        yield info;
      }
    }
  }

  /** Uploads again, from the cache, each of `blobs` the repository lacks; one missing from both is not found. */
  private async reupload(blobs: readonly BlobInfo[]): Promise<void> {
    for (const blob of blobs) {
      if ((await this.remote.stat(blob.digest)) !== undefined) continue;
      const handle = await this.cache.open(blob.digest);
      if (!handle) throw new NotFoundError(`content ${blob.digest} is in neither the blob store nor this replica's cache`);
      try {
        await this.remote.upload(blob.digest, blob.size, () => handle.createReadStream({ start: 0, autoClose: false }));
      } finally {
        await handle.close();
      }
    }
  }

  cleanIngest(): Promise<number> {
    return this.cache.cleanIngest();
  }

  readonly holds: BlobHolds = {
    hold: async (target, blobs) => {
      // The holder's config may have been unlinked with an image that had it as a blob.
      if ((await this.remote.stat(EMPTY_CONFIG_DIGEST)) === undefined) {
        await this.remote.upload(EMPTY_CONFIG_DIGEST, EMPTY_CONFIG.length, () => Readable.from([EMPTY_CONFIG]));
      }
      this.released.delete(target);
      const put = () => this.remote.putManifest(holderTag(target), MediaType.ociManifest, holderManifest(target, blobs));
      try {
        await put();
      } catch (err) {
        if (!(err instanceof ManifestBlobUnknownError)) throw err;
        // Another replica's review released a blob that this replica still has cached (its eviction
        // notice is on the way). The caller leases every blob it holds, so no review takes them from
        // here on: the cached copies go back to the registry, and the holder is written again.
        await this.reupload(blobs);
        await put();
      }
    },
    release: async (target) => {
      this.released.add(target);
      return this.remote.deleteManifest(holderTag(target));
    },
  };
}

function tooLarge(digest: string, size: number, maxBytes: number): InvalidArgumentError {
  return new InvalidArgumentError(`content ${digest} is ${size} bytes, more than the limit of ${maxBytes}`);
}

/** A write spooled to a file while hashed; `commit` checks it and hands it to `store` (upload, then cache). */
class RegistryBlobWriter implements BlobWriter {
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  private done = false;

  constructor(
    private readonly handle: fs.FileHandle,
    private readonly file: string,
    private readonly store: (digest: string, size: number) => Promise<void>,
  ) {}

  get written(): number {
    return this.bytes;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.done) throw new Error('write after commit or abort');
    if (chunk.byteLength === 0) return;
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
    await this.handle.write(chunk);
  }

  async commit(expected?: Partial<BlobInfo>, beforePublish?: BeforePublish): Promise<BlobInfo> {
    if (this.done) throw new Error('commit after commit or abort');
    this.done = true;
    const digest = 'sha256:' + this.hash.digest('hex');
    const size = this.bytes;
    try {
      checkExpected(expected, { digest, size });
      await this.handle.sync();
      await this.handle.close();
      // Before the upload: once the blob is in the repository, another replica's sweep may see it.
      await beforePublish?.({ digest, size });
      await this.store(digest, size);
      return { digest, size };
    } catch (err) {
      await this.handle.close().catch(() => undefined);
      await fs.rm(this.file, { force: true });
      throw err;
    }
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.handle.close().catch(() => undefined);
    await fs.rm(this.file, { force: true });
  }
}
