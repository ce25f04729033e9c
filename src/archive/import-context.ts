import type { BlobInfo, ContentStore } from '../content/content-store.js';
import { InvalidArgumentError } from '../errors.js';
import type { ExpansionLimits } from '../layers/compression.js';
import { analyzeStoredLayer } from '../layers/layer-analysis-pool.js';
import type { LayerAnalysis } from '../layers/layer-facts.js';
import type { Descriptor } from '../oci/types.js';
import { parseJson, type ArchiveContents } from './archive-reader.js';
import type { LayerFacts } from '../metadata/layer-facts-store.js';

/** An image an archive holds, as a format-specific step finds it. */
export interface ImportedImage {
  /** Normalized full name with tag, e.g. 'docker.io/library/busybox:1.36'; absent when untagged. */
  name?: string;
  target: Descriptor;
}

/** What one import has read and written so far, shared by the format-specific steps. */
export class ImportContext {
  readonly committed: BlobInfo[];
  private readonly committedDigests: Set<string>;
  /** Digests of the blobs this archive carried. */
  readonly archiveDigests: Set<string>;
  /** Facts of the layers used by the images, in first-use order. */
  readonly layers = new Map<string, LayerFacts>();
  /** Manifests and indexes already checked. */
  readonly verified = new Set<string>();

  constructor(
    readonly store: ContentStore,
    readonly contents: ArchiveContents,
    readonly maxJsonBytes: number,
    private readonly onBlobCommitted: ((blob: BlobInfo) => void) | undefined,
    private readonly layerLimits: ExpansionLimits,
    /**
     * Whether a platform manifest of an index must have all its content here. The others may lack
     * some, as containerd's import WithSkipMissing lets them (Docker 28's LoadImage).
     */
    readonly mustBeWhole: (manifest: Descriptor) => boolean = () => true,
  ) {
    this.committed = [...contents.committed];
    this.committedDigests = new Set(this.committed.map((b) => b.digest));
    this.archiveDigests = new Set(contents.committed.map((b) => b.digest));
  }

  /** Stores a document this import made up (a synthesized manifest). */
  async writeBlob(data: Uint8Array): Promise<BlobInfo> {
    const info = await this.store.writeBytes(data);
    if (!this.committedDigests.has(info.digest)) {
      this.committedDigests.add(info.digest);
      this.committed.push(info);
      this.onBlobCommitted?.(info);
    }
    return info;
  }

  /** A manifest or config from the store, parsed; capped at maxJsonBytes. */
  async readJson(digest: string, what: string): Promise<unknown> {
    let data: Buffer;
    try {
      data = await this.store.readBytes(digest, this.maxJsonBytes);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new InvalidArgumentError(`${what}: ${message}`, { cause: err });
    }
    return parseJson(data, what);
  }

  /**
   * A layer's diffID and unpacked size: analysed once the archive's blob was stored, or else (a
   * layer the store already had, or one too small to recognise) now.
   */
  async layerFacts(blob: { digest: string; size: number }, what: string): Promise<LayerAnalysis> {
    const { digest } = blob;
    let running = this.contents.analyses.get(digest);
    if (running === undefined) {
      running = analyzeStoredLayer(this.store, blob, this.layerLimits).catch((err: Error) => err);
      this.contents.analyses.set(digest, running);
    }
    const analysis = await running;
    if (analysis instanceof InvalidArgumentError) {
      throw new InvalidArgumentError(`${what} ${digest}: ${analysis.message}`, { cause: analysis });
    }
    if (analysis instanceof Error) {
      throw new InvalidArgumentError(`${what} ${digest} is not a readable layer: ${analysis.message}`, { cause: analysis });
    }
    if (!this.layers.has(digest)) {
      this.layers.set(digest, { digest, diffId: analysis.diffId, unpackedSize: analysis.unpackedSize });
    }
    return analysis;
  }
}
