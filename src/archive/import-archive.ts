/**
 * `docker load`: imports a docker-archive or OCI-layout tar (plain, gzip or zstd) into the content
 * store, as containerd v2.1.4's archive importer does for Docker 28.5, and says which images it
 * holds. Naming the images (and rolling back) is the caller's job.
 */
import type { BlobInfo, ContentStore } from '../content/content-store.js';
import { InvalidArgumentError } from '../errors.js';
import type { LayerFacts } from '../metadata/layer-facts-store.js';
import { bodyExpansion, DEFAULT_IMPORT_LIMITS, layerExpansion, type ImportLimits } from '../layers/compression.js';
import type { Descriptor } from '../oci/types.js';
import { readArchive } from './archive-reader.js';
import type { ArchiveBody } from './archive-entries.js';
import { importDockerArchive, parseDockerManifest } from './docker-archive.js';
import { ImportContext, type ImportedImage } from './import-context.js';
import { LoadProgress } from './load-progress.js';
import type { ProgressSink } from '../util/progress-message.js';
import { importOciLayout, ociLayoutVersion } from './oci-layout.js';

export interface ImportResult {
  images: ImportedImage[];
  /** Every blob this import committed (whether or not the store had it already). */
  blobs: BlobInfo[];
  /** The layers of the imported images, each once. */
  layers: LayerFacts[];
}

export interface ImportOptions {
  /** Cap for the JSON documents (manifest.json, index.json, manifests, configs). */
  maxJsonBytes?: number;
  /** Decompression limits: the daemon's (ImageService.limits); the flags' defaults when absent. */
  limits?: ImportLimits;
  /**
   * Told of each blob as soon as it is committed, so that a caller can clean up after a failed
   * import (which throws and so returns no `blobs`).
   */
  onBlobCommitted?: (blob: BlobInfo) => void;
  /**
   * Whether a platform manifest of an index must have all its content in the archive (or the
   * store); the others may lack some. Every one must when absent.
   */
  mustBeWhole?: (manifest: Descriptor) => boolean;
  /** Where `Loading layer` lines go (docker load without quiet); none when absent. */
  progress?: ProgressSink;
  /** Gives the import up (its client went away): reading and layer analyses stop, and it fails. */
  signal?: AbortSignal;
}

export const DEFAULT_MAX_JSON_BYTES = 4 * 1024 * 1024;

export async function importArchive(
  body: AsyncIterable<Uint8Array> | NodeJS.ReadableStream,
  store: ContentStore,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const maxJsonBytes = options.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES;
  const layerLimits = layerExpansion(options.limits ?? DEFAULT_IMPORT_LIMITS);
  // Layer analyses run on beside the archive's reading; those nobody awaits (a failed import, a
  // layer no image uses) are stopped when the import ends.
  const analyses = new AbortController();
  const giveUp = (): void => analyses.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', giveUp, { once: true });
  const progress = options.progress ? new LoadProgress(options.progress) : undefined;
  try {
    const contents = await readArchive(body as ArchiveBody, store, {
      maxJsonBytes,
      layerLimits,
      bodyLimits: bodyExpansion(options.limits ?? DEFAULT_IMPORT_LIMITS),
      onBlobCommitted: options.onBlobCommitted,
      signal: analyses.signal,
      ...(options.signal ? { bodySignal: options.signal } : {}),
      ...(progress ? { progress } : {}),
    }).finally(() => progress?.stop());
    const ctx = new ImportContext(store, contents, maxJsonBytes, options.onBlobCommitted, layerLimits, options.mustBeWhole);

    // Docker 25+ writes both an OCI layout and manifest.json; containerd prefers the layout.
    const version = ociLayoutVersion(contents.metadata.get('oci-layout'));
    const dockerManifest = parseDockerManifest(contents.metadata.get('manifest.json'));
    let images: ImportedImage[];
    if (version !== '') {
      images = await importOciLayout(ctx, version);
    } else if (dockerManifest !== undefined) {
      images = await importDockerArchive(ctx, dockerManifest);
    } else {
      throw new InvalidArgumentError('unrecognized image format');
    }
    return { images, blobs: ctx.committed, layers: [...ctx.layers.values()] };
  } finally {
    options.signal?.removeEventListener('abort', giveUp);
    analyses.abort(new Error('import ended'));
  }
}
