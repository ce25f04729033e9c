import type { Readable } from 'node:stream';
import { LadingError } from '../errors.js';

/** A manifest refused because a blob it lists is not in the repository (distribution's MANIFEST_BLOB_UNKNOWN). */
export class ManifestBlobUnknownError extends LadingError {}

/**
 * What the registry tier (registry-content-store.ts) needs of an OCI-distribution repository. The
 * HTTP side is registry/registry-blobs.ts, so that content/ never speaks HTTP itself.
 * Failures to reach the registry are UnavailableErrors (503), with the registry named.
 */
export interface RemoteBlobs {
  /** `registry://host[:port]/repository`, for messages. */
  readonly location: string;
  /** The blob's size, or undefined when the repository does not have it (HEAD). */
  stat(digest: string): Promise<number | undefined>;
  /** The blob's bytes as served (unverified), or undefined when absent (GET). */
  open(digest: string): Promise<{ size: number | undefined; body: Readable } | undefined>;
  /** Uploads a blob whose digest and size the caller has checked; the registry checks them again. */
  upload(digest: string, size: number, open: () => Readable): Promise<void>;
  /** Unlinks the blob from the repository (the registry's GC reclaims its bytes); false when absent. */
  deleteBlob(digest: string): Promise<boolean>;
  /** PUTs a manifest at `tag`; a ManifestBlobUnknownError when a blob it lists is not in the repository. */
  putManifest(tag: string, mediaType: string, bytes: Buffer): Promise<void>;
  /** The manifest at `tag`, or undefined. */
  getManifest(tag: string): Promise<Buffer | undefined>;
  /** Deletes the manifest `tag` points at, and so every tag of it; false when there is none. */
  deleteManifest(tag: string): Promise<boolean>;
  /** Every tag of the repository. */
  tags(): Promise<string[]>;
}
