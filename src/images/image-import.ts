/**
 * `docker import`: one layer and a config made into an image, as Docker 28's containerd image
 * service does it (daemon/containerd/image_import.go, ImportImage): a gzip or zstd body is stored as
 * it is, an uncompressed tar is gzipped; the config is the host's (or the given) platform, the
 * `changes` (import-changes.ts), one history entry with the message; the target is an OCI manifest.
 */
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import type { BlobWriter, ContentStore } from '../content/content-store.js';
import { InvalidArgumentError, LadingError } from '../errors.js';
import type { LayerFacts } from '../metadata/metadata-store.js';
import { MediaType } from '../oci/media-types.js';
import { normalizePlatform } from '../oci/platform.js';
import type { Descriptor, Platform } from '../oci/types.js';
import { decompressIterable, layerExpansion, readStreamHead, type ImportLimits } from '../layers/compression.js';
import { LayerAnalyzer } from '../layers/layer-facts.js';
import { goMap, goMarshal } from '../util/go-json.js';
import { nowRfc3339Nano } from '../util/go-time.js';
import { applyChanges, type ImportConfig } from './import-changes.js';

export interface ImportedImage {
  /** The OCI manifest: the image's ID. */
  target: Descriptor;
  layer: LayerFacts;
}

/**
 * Writes the layer, config and manifest of an import into `store` (a leasing view: the caller
 * names the image or lets the blobs go). The changes are checked before a byte of the body is read.
 */
export async function writeImportedImage(
  store: ContentStore,
  body: AsyncIterable<Uint8Array>,
  options: { platform: Platform; message: string; changes: readonly string[]; limits: ImportLimits; signal?: AbortSignal },
): Promise<ImportedImage> {
  const config = applyChanges(options.changes);
  const layer = await writeLayer(store, body, options.limits, options.signal);
  const created = nowRfc3339Nano();
  const platform = normalizePlatform(options.platform);
  const configJson = goMarshal({
    created,
    architecture: platform.architecture,
    os: platform.os,
    'os.version': platform['os.version'] || undefined,
    'os.features': platform['os.features']?.length ? platform['os.features'] : undefined,
    variant: platform.variant || undefined,
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    history: [{ created, comment: options.message || undefined }],
    // DockerOCIImage's own Config follows every field of the embedded ocispec.Image.
    config: configDocument(config),
  });
  const configInfo = await store.writeBytes(Buffer.from(configJson));
  const manifestJson = goMarshal({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: configInfo.digest, size: configInfo.size },
    layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }],
  });
  const manifestInfo = await store.writeBytes(Buffer.from(manifestJson));
  return {
    target: { mediaType: MediaType.ociManifest, digest: manifestInfo.digest, size: manifestInfo.size },
    layer: { digest: layer.digest, diffId: layer.diffId, unpackedSize: layer.unpackedSize },
  };
}

/** containerConfigToDockerOCIImageConfig: the fields in their JSON order, maps sorted as Go writes them. */
function configDocument(c: ImportConfig): object {
  return {
    User: c.User || undefined,
    ExposedPorts: c.ExposedPorts ? goMap(c.ExposedPorts) : undefined,
    Env: c.Env,
    Entrypoint: c.Entrypoint,
    Cmd: c.Cmd,
    Volumes: c.Volumes ? goMap(c.Volumes) : undefined,
    WorkingDir: c.WorkingDir || undefined,
    Labels: c.Labels ? goMap(c.Labels) : undefined,
    StopSignal: c.StopSignal || undefined,
    Healthcheck: c.Healthcheck,
    OnBuild: c.OnBuild,
  };
}

interface StoredLayer {
  digest: string;
  size: number;
  mediaType: string;
  diffId: string;
  unpackedSize: number;
}

/** saveArchive: gzip and zstd stored as they are, a plain tar gzipped; diff ID and size on the way. */
async function writeLayer(
  store: ContentStore,
  body: AsyncIterable<Uint8Array>,
  limits: ImportLimits,
  signal?: AbortSignal,
): Promise<StoredLayer> {
  const analyzer = new LayerAnalyzer(layerExpansion(limits));
  const writer = await store.openWriter();
  try {
    const input = body[Symbol.asyncIterator]();
    const { compression, head, ended: done } = await readStreamHead(input, (chunk) => chunk);
    const rest = async function* (): AsyncGenerator<Uint8Array> {
      yield* head;
      if (done) return;
      for (;;) {
        signal?.throwIfAborted();
        const next = await input.next();
        if (next.done) return;
        yield next.value;
      }
    };
    let mediaType: string;
    if (compression === 'none') {
      mediaType = MediaType.ociLayerGzip;
      await gzipInto(writer, analyzer, rest());
    } else if (compression === 'bzip2' || compression === 'xz') {
      // No layer media type for these: decompressed, then gzipped as a plain tar (Docker's saveArchive).
      mediaType = MediaType.ociLayerGzip;
      const plain = decompressIterable(rest(), compression, layerExpansion(limits), `the ${compression}-compressed layer`, (message) =>
        new InvalidArgumentError(`failed to decompress ${compression} archive: ${message}`),
      );
      await gzipInto(writer, analyzer, plain);
    } else {
      mediaType = compression === 'gzip' ? MediaType.ociLayerGzip : MediaType.ociLayerZstd;
      for await (const chunk of rest()) {
        await analyzer.write(chunk);
        await writer.write(chunk);
      }
    }
    let analysis;
    try {
      analysis = await analyzer.end();
    } catch (err) {
      if (err instanceof LadingError) throw err;
      throw new InvalidArgumentError(`the imported archive is not a layer: ${err instanceof Error ? err.message : String(err)}`);
    }
    const info = await writer.commit();
    return { digest: info.digest, size: info.size, mediaType, diffId: analysis.diffId, unpackedSize: analysis.unpackedSize };
  } catch (err) {
    analyzer.abort();
    await writer.abort();
    throw err;
  }
}

/** compressAndWriteBlob: the plain tar hashed as it comes and gzipped into the blob. */
async function gzipInto(writer: BlobWriter, analyzer: LayerAnalyzer, input: AsyncIterable<Uint8Array>): Promise<void> {
  const gzip = createGzip();
  const drained = (async () => {
    for await (const chunk of gzip as AsyncIterable<Buffer>) await writer.write(chunk);
  })();
  try {
    for await (const chunk of input) {
      await analyzer.write(chunk);
      if (!gzip.write(chunk)) await Promise.race([once(gzip, 'drain'), drained]);
    }
    gzip.end();
    await drained;
  } catch (err) {
    gzip.destroy();
    await drained.catch(() => undefined);
    throw err;
  }
}
