/** Test helpers for tag, remove, prune and GC: an image service on a temp data root that shows its blobs, and small OCI-layout archives of images that share layers. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FsContentStore } from '../../content/fs-content-store.js';
import { SqliteMetadataStore } from '../../metadata/sqlite-metadata-store.js';
import { MediaType } from '../../oci/media-types.js';
import type { Descriptor, Platform } from '../../oci/types.js';
import { buildTar, chunked } from '../../archive/testing/archive-builder.js';
import { OCI_LAYOUT, blob, blobEntry, layer, ociIndex, ociManifest, type Blob } from '../../archive/testing/image-builder.js';
import { ImageService } from '../image-service.js';

export interface MutationFixture {
  service: ImageService;
  /** The data root (content/, metadata.db). */
  root: string;
  /** Digests of the blobs on disk. */
  blobs(): Set<string>;
  load(archive: Buffer): ReturnType<ImageService['load']>;
  close(): Promise<void>;
}

export async function mutationFixture(): Promise<MutationFixture> {
  const root = mkdtempSync(path.join(tmpdir(), 'lading-images-'));
  const content = new FsContentStore(path.join(root, 'content'));
  await content.init();
  const metadata = new SqliteMetadataStore(path.join(root, 'metadata.db'));
  const service = new ImageService(content, metadata);
  const blobDir = path.join(root, 'content', 'blobs', 'sha256');
  return {
    service,
    root,
    blobs: () => new Set(readdirSync(blobDir).map((hex) => `sha256:${hex}`)),
    load: (archive) => service.load(chunked(archive)),
    close: async () => {
      await metadata.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** An image's blobs: the target first. */
export interface TestImage {
  target: Descriptor;
  blobs: Blob[];
}

export interface ImageSpec {
  marker: string;
  labels?: Record<string, string>;
  platform?: Platform;
  /** Layers this image shares with others (put first). */
  shared?: Blob[];
  /** The config's `created` (RFC 3339); none without. */
  created?: string;
}

/** A base layer several images can share. */
export async function sharedLayer(text: string): Promise<Blob> {
  const l = await layer({ 'base.txt': text });
  return blob(l.tar, MediaType.ociLayer);
}

/** A single-manifest image: its own layer after the shared ones, a config with labels. */
export async function manifestImage(spec: ImageSpec): Promise<TestImage> {
  const own = await layer({ [`${spec.marker}.txt`]: `image ${spec.marker}\n` });
  const layers = [...(spec.shared ?? []), blob(own.tar, MediaType.ociLayer)];
  const platform = spec.platform ?? { architecture: 'amd64', os: 'linux' };
  const config = blob(
    JSON.stringify({
      ...platform,
      ...(spec.created ? { created: spec.created } : {}),
      config: { Cmd: ['/bin/sh'], Labels: spec.labels ?? { marker: spec.marker } },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.desc.digest) },
    }),
    MediaType.ociConfig,
  );
  const manifest = ociManifest(config.desc, layers.map((l) => l.desc));
  return { target: { ...manifest.desc, platform }, blobs: [manifest, config, ...layers] };
}

/** An index of linux/amd64 and linux/arm64 images (sharing `shared`). */
export async function indexImage(spec: ImageSpec): Promise<TestImage & { platforms: TestImage[] }> {
  const amd64 = await manifestImage({ ...spec, marker: `${spec.marker}-amd64`, platform: { architecture: 'amd64', os: 'linux' } });
  const arm64 = await manifestImage({ ...spec, marker: `${spec.marker}-arm64`, platform: { architecture: 'arm64', os: 'linux' } });
  const index = ociIndex([amd64.target, arm64.target]);
  return { target: index.desc, blobs: [index, ...amd64.blobs, ...arm64.blobs], platforms: [amd64, arm64] };
}

/** An OCI layout tar with these images, named (containerd's name annotation) or not. */
export async function layoutArchive(entries: Array<{ image: TestImage; name?: string }>): Promise<Buffer> {
  const seen = new Set<string>();
  const blobEntries = entries
    .flatMap((e) => e.image.blobs)
    .filter((b) => !seen.has(b.desc.digest) && seen.add(b.desc.digest))
    .map(blobEntry);
  const manifests = entries.map(({ image, name }) => ({
    ...image.target,
    ...(name ? { annotations: { 'io.containerd.image.name': name } } : {}),
  }));
  const index = { name: 'index.json', data: JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }) };
  return buildTar([OCI_LAYOUT, index, ...blobEntries]);
}

export function digestsOf(image: TestImage): string[] {
  return image.blobs.map((b) => b.desc.digest);
}
