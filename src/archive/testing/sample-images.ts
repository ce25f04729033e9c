/** Test helpers: small sample images (two layers and a history; an index of two platforms and an attestation). */
import { MediaType } from '../../oci/media-types.js';
import type { Descriptor, Platform } from '../../oci/types.js';
import type { TarEntrySpec } from './archive-builder.js';
import { blob, blobEntry, compressed, layer, ociIndex, ociManifest, type Blob, type Layer } from './image-builder.js';

export interface BuiltImage {
  platform: Platform;
  layers: Layer[];
  layerBlobs: Blob[];
  config: Blob;
  manifest: Blob;
  /** The manifest as an index lists it: with its platform. */
  entry: Descriptor;
  history: Array<Record<string, unknown>>;
}

/**
 * An image of two layers whose history has an empty layer between them; `history` replaces it.
 * `marker` makes the bytes differ between images.
 */
export async function buildImage(
  platform: Platform,
  marker: string,
  history?: Array<Record<string, unknown>>,
): Promise<BuiltImage> {
  const layers = [
    await layer({ [`bin/${marker}`]: Buffer.alloc(3000, 7), 'etc/platform': `${platform.architecture} ${marker}\n` }),
    await layer({ [`srv/${marker}.txt`]: `hello ${marker}\n` }),
  ];
  const layerBlobs = [blob(compressed(layers[0]!, 'gzip'), MediaType.ociLayerGzip), blob(layers[1]!.tar, MediaType.ociLayer)];
  const h = history ?? [
    { created: '2025-05-30T16:20:41.123456789Z', created_by: 'ADD app /bin/ # buildkit', comment: 'buildkit.dockerfile.v0' },
    { created: '2025-05-30T16:20:42Z', created_by: 'ENV A=1 && B=<2>', comment: 'buildkit.dockerfile.v0', empty_layer: true },
    { created: '2025-05-30T16:20:43+02:00', created_by: 'COPY x.txt /srv/', comment: 'last' },
  ];
  const config = blob(
    JSON.stringify({
      created: '2025-05-30T16:20:43Z',
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config: { Cmd: ['/bin/sh'], Labels: { 'com.example.marker': marker } },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: h,
    }),
    MediaType.ociConfig,
  );
  const manifest = ociManifest(config.desc, layerBlobs.map((b) => b.desc));
  return { platform, layers, layerBlobs, config, manifest, entry: { ...manifest.desc, platform }, history: h };
}

/** The blobs of an image: layers, config, manifest. */
export function imageBlobs(img: BuiltImage): Blob[] {
  return [...img.layerBlobs, img.config, img.manifest];
}

export function imageEntries(img: BuiltImage): TarEntrySpec[] {
  return imageBlobs(img).map(blobEntry);
}

export interface BuiltIndex {
  index: Blob;
  amd64: BuiltImage;
  arm64: BuiltImage;
  attestation: { manifest: Blob; config: Blob; layer: Blob; entry: Descriptor };
}

/** An index of linux/amd64, linux/arm64/v8 and an attestation for amd64. */
export async function buildIndex(marker: string): Promise<BuiltIndex> {
  const amd64 = await buildImage({ architecture: 'amd64', os: 'linux' }, `${marker}-amd64`);
  const arm64 = await buildImage({ architecture: 'arm64', os: 'linux', variant: 'v8' }, `${marker}-arm64`, [
    { created: '2026-01-01T00:00:00Z', created_by: 'ADD arm /bin/' },
    { created: '2026-01-01T00:00:01Z', created_by: 'COPY y /srv/', comment: 'arm' },
  ]);
  const attLayer = blob(`{"_type":"https://in-toto.io/Statement/v0.1","marker":"${marker}"}`, MediaType.inTotoAttestation);
  const attConfig = blob('{"architecture":"unknown","os":"unknown","rootfs":{"type":"layers","diff_ids":[]}}', MediaType.ociConfig);
  const attManifest = ociManifest(attConfig.desc, [attLayer.desc]);
  const attEntry: Descriptor = {
    ...attManifest.desc,
    platform: { architecture: 'unknown', os: 'unknown' },
    annotations: { 'vnd.docker.reference.digest': amd64.manifest.desc.digest, 'vnd.docker.reference.type': 'attestation-manifest' },
  };
  const index = ociIndex([amd64.entry, arm64.entry, attEntry]);
  return { index, amd64, arm64, attestation: { manifest: attManifest, config: attConfig, layer: attLayer, entry: attEntry } };
}

/** The blobs of an index and its images; the arm64 image's left out with `omitArm64`. */
export function indexBlobs(built: BuiltIndex, opts: { omitArm64?: boolean } = {}): Blob[] {
  return [
    built.index,
    ...imageBlobs(built.amd64),
    ...(opts.omitArm64 ? [] : imageBlobs(built.arm64)),
    built.attestation.manifest,
    built.attestation.config,
    built.attestation.layer,
  ];
}

export function indexEntries(built: BuiltIndex, opts: { omitArm64?: boolean } = {}): TarEntrySpec[] {
  return indexBlobs(built, opts).map(blobEntry);
}

/** A name annotation as `docker save` writes it, for index.json. */
export function named(desc: Descriptor, name: string | undefined): Descriptor {
  if (!name) return desc;
  const tag = name.slice(name.lastIndexOf(':') + 1);
  return { ...desc, annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': tag } };
}
