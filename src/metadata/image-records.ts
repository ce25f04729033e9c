import type { Descriptor } from '../oci/types.js';

/**
 * An image record: a name pointing at a target (an index or a manifest), as containerd keeps them.
 * Names are normalized references (`docker.io/library/alpine:latest`, `…/alpine@sha256:…`) or, for
 * images without one, the dangling form `moby-dangling@sha256:…`.
 */
export interface ImageRecord {
  name: string;
  target: Descriptor;
  /** RFC 3339 timestamps with nanoseconds, UTC. */
  createdAt: string;
  updatedAt: string;
}

/**
 * The image records: containerd's images.Store. Reads are in name order where they return many
 * (resolve, list and rmi rely on it; names are ASCII, so byte order is name order).
 *
 * Every method returns a Promise (metadata-store.ts says why), except `generation`, which an
 * implementation keeps in memory and moves once a change it made is committed (for a shared
 * database: on every change it is told of, LISTEN/NOTIFY in PostgreSQL).
 */
export interface ImageRecords {
  getImage(name: string): Promise<ImageRecord | undefined>;
  /** Every record, in name order. */
  listImages(): Promise<ImageRecord[]>;
  /** Records whose name starts with `prefix`, in name order (a range of the primary key). */
  imagesWithPrefix(prefix: string): Promise<ImageRecord[]>;
  /** Records naming `digest`, in name order. */
  imagesByTarget(digest: string): Promise<ImageRecord[]>;
  /** Distinct target digests whose hex starts with `hexPrefix`, at most `limit` of them. */
  targetsByPrefix(hexPrefix: string, limit: number): Promise<string[]>;
  /** Distinct target digests: the images, however many names each has. */
  countTargets(): Promise<number>;
  /** Creates the record, or points it at a new target keeping its `createdAt`. */
  putImage(record: ImageRecord): Promise<void>;
  /** Whether there was a record to delete. */
  deleteImage(name: string): Promise<boolean>;
  /** Grows with every committed change of image records, so that caches of derived documents can tell. */
  readonly generation: number;
}
