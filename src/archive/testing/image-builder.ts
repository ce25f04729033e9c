/** Test helpers: small images (layers, configs, manifests) as the blobs of an archive. */
import { gzipSync } from 'node:zlib';
import { MediaType } from '../../oci/media-types.js';
import type { Descriptor, Platform } from '../../oci/types.js';
import { buildTar, sha256, zstdStored } from './archive-builder.js';

export interface Blob {
  data: Buffer;
  desc: Descriptor;
}

export function blob(data: Buffer | string, mediaType: string): Blob {
  const bytes = Buffer.from(data);
  return { data: bytes, desc: { mediaType, digest: sha256(bytes), size: bytes.length } };
}

export interface Layer {
  /** The uncompressed tar. */
  tar: Buffer;
  diffId: string;
  unpackedSize: number;
}

export async function layer(files: Record<string, string | Buffer>): Promise<Layer> {
  const tar = await buildTar(Object.entries(files).map(([name, data]) => ({ name, data })));
  const unpackedSize = Object.values(files).reduce((n, d) => n + Buffer.from(d).length, 0);
  return { tar, diffId: sha256(tar), unpackedSize };
}

export function compressed(l: Layer, how: 'none' | 'gzip' | 'zstd'): Buffer {
  return how === 'gzip' ? gzipSync(l.tar) : how === 'zstd' ? zstdStored(l.tar) : l.tar;
}

export function configJson(diffIds: string[], platform: Partial<Platform> & Record<string, unknown> = {}): string {
  return JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    ...platform,
    config: { Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
  });
}

export function ociManifest(config: Descriptor, layers: Descriptor[]): Blob {
  return blob(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers }), MediaType.ociManifest);
}

export function ociIndex(manifests: Descriptor[]): Blob {
  return blob(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }), MediaType.ociIndex);
}

/** The tar entry of a blob in an OCI layout. */
export function blobEntry(b: Blob | { data: Buffer; desc: { digest: string } }): { name: string; data: Buffer } {
  return { name: `blobs/sha256/${b.desc.digest.slice('sha256:'.length)}`, data: b.data };
}

export const OCI_LAYOUT = { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' };

export function indexJson(manifests: Descriptor[]): { name: string; data: string } {
  return { name: 'index.json', data: JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }) };
}
