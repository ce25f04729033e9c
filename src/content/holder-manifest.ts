/**
 * Holder manifests: what keeps a stored target's blobs in a registry whose garbage collector
 * (distribution's `garbage-collect --delete-untagged`) deletes every untagged manifest and every
 * blob no kept manifest lists. One OCI artifact manifest per target, tagged `sha256-<hex>` of the
 * target, listing its blobs as layers. Layers say `application/octet-stream` whatever the blob is:
 * distribution checks a layer typed as a manifest against the repository's manifests, and the
 * blobs of the tier are stored as blobs, never as manifests.
 */
import type { BlobInfo } from './content-store.js';
import { digestOf, hexOf, isDigest } from '../oci/digest.js';
import { MediaType } from '../oci/media-types.js';

export const HOLDER_ARTIFACT_TYPE = 'application/vnd.lading.holder.v1';
/** The OCI empty descriptor's content, `{}`: the holder's config. */
export const EMPTY_CONFIG = Buffer.from('{}');
export const EMPTY_CONFIG_DIGEST = digestOf(EMPTY_CONFIG);
const HELD_BLOB_TYPE = 'application/octet-stream';

/** The holder's tag for `target`: a tag may not hold `:`. */
export function holderTag(target: string): string {
  return `sha256-${hexOf(target)}`;
}

/** The target a holder tag names, or undefined for another tag. */
export function targetOfTag(tag: string): string | undefined {
  const digest = `sha256:${tag.slice('sha256-'.length)}`;
  return tag.startsWith('sha256-') && isDigest(digest) ? digest : undefined;
}

/** The holder's bytes: the same blobs always give the same manifest (sorted, deduplicated). */
export function holderManifest(target: string, blobs: readonly BlobInfo[]): Buffer {
  const unique = new Map(blobs.map((b) => [b.digest, b.size]));
  const layers = [...unique].sort(([a], [b]) => (a < b ? -1 : 1)).map(([digest, size]) => ({ mediaType: HELD_BLOB_TYPE, digest, size }));
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      artifactType: HOLDER_ARTIFACT_TYPE,
      config: { mediaType: MediaType.ociEmpty, digest: EMPTY_CONFIG_DIGEST, size: EMPTY_CONFIG.length },
      layers,
      annotations: { 'vnd.lading.holder.target': target },
    }),
  );
}

/** The blobs a holder lists; nothing for bytes that are not one. */
export function heldBlobs(bytes: Buffer): BlobInfo[] {
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as { artifactType?: unknown; layers?: unknown };
    if (doc.artifactType !== HOLDER_ARTIFACT_TYPE || !Array.isArray(doc.layers)) return [];
    return (doc.layers as Array<{ digest?: unknown; size?: unknown }>)
      .filter((l) => typeof l.digest === 'string' && isDigest(l.digest) && typeof l.size === 'number')
      .map((l) => ({ digest: l.digest as string, size: l.size as number }));
  } catch {
    return [];
  }
}
