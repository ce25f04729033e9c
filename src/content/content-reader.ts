import type { ContentStore } from './content-store.js';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { isIndexType, isManifestType } from '../oci/media-types.js';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from '../oci/types.js';

/**
 * Reads and parses the JSON blobs of images (indexes, manifests, configs). Blobs are immutable
 * and verified, so a parsed blob is cached by digest for as long as it is not deleted.
 */
export class ContentReader {
  private readonly cache = new Map<string, unknown>();

  constructor(
    readonly store: ContentStore,
    private readonly maxCached = 20_000,
  ) {}

  /** Parsed JSON of a blob, or undefined when the blob is absent. */
  async readJson<T>(digest: string): Promise<T | undefined> {
    if (this.cache.has(digest)) return this.cache.get(digest) as T;
    let bytes: Buffer;
    try {
      bytes = await this.store.readBytes(digest);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
    let parsed: T;
    try {
      parsed = JSON.parse(bytes.toString('utf8')) as T;
    } catch (err) {
      throw new InvalidArgumentError(`content ${digest} is not valid JSON: ${(err as Error).message}`);
    }
    if (this.cache.size >= this.maxCached) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(digest, parsed);
    return parsed;
  }

  async readManifest(desc: Descriptor): Promise<ImageManifest | undefined> {
    const m = await this.readJson<ImageManifest>(desc.digest);
    if (m !== undefined && (typeof m !== 'object' || m === null || !m.config || !Array.isArray(m.layers))) {
      throw new InvalidArgumentError(`content ${desc.digest} is not an image manifest`);
    }
    return m;
  }

  async readIndex(desc: Descriptor): Promise<ImageIndex | undefined> {
    const idx = await this.readJson<ImageIndex>(desc.digest);
    if (idx !== undefined && (typeof idx !== 'object' || idx === null || !Array.isArray(idx.manifests))) {
      throw new InvalidArgumentError(`content ${desc.digest} is not an image index`);
    }
    return idx;
  }

  async readConfig(desc: Descriptor): Promise<ImageConfig | undefined> {
    return this.readJson<ImageConfig>(desc.digest);
  }

  forget(digest: string): void {
    this.cache.delete(digest);
  }

  async has(digest: string): Promise<boolean> {
    return this.cache.has(digest) || (await this.store.has(digest));
  }
}

export function isIndex(desc: Descriptor): boolean {
  return isIndexType(desc.mediaType);
}

export function isManifest(desc: Descriptor): boolean {
  return isManifestType(desc.mediaType);
}
