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

/** What we learnt of a layer blob while it streamed in: Docker reads these from its snapshotter. */
export interface LayerFacts {
  digest: string;
  diffId: string;
  unpackedSize: number;
}

/**
 * A repository a blob is known to be in (containerd's `containerd.io/distribution.source.<host>`
 * label): recorded by pulls and pushes, read by a push to mount the blob from there instead of
 * uploading it.
 */
export interface BlobSource {
  digest: string;
  /** `registry-1.docker.io`, `127.0.0.1:5000`: the host requests went to. */
  registry: string;
  /** `library/alpine`. */
  repository: string;
}

/**
 * Image records and derived facts. Synchronous on purpose: the SQLite implementation answers in
 * microseconds, which keeps inspect off the event loop's slow paths. Another implementation
 * (PostgreSQL, for several daemons) would sit behind the same interface with a local cache.
 */
export interface MetadataStore {
  getImage(name: string): ImageRecord | undefined;
  listImages(): ImageRecord[];
  imagesByTarget(digest: string): ImageRecord[];
  /** Distinct target digests whose hex starts with `hexPrefix`, at most `limit` of them. */
  targetsByPrefix(hexPrefix: string, limit: number): string[];
  countImages(): number;
  putImage(record: ImageRecord): void;
  deleteImage(name: string): boolean;

  putLayerFacts(facts: LayerFacts): void;
  getLayerFacts(digest: string): LayerFacts | undefined;
  deleteLayerFacts(digest: string): void;
  /** Every layer's facts, for consistency checks (`ladingd check`, the start-up check). */
  listLayerFacts(): LayerFacts[];

  addBlobSources(sources: readonly BlobSource[]): void;
  /** Where `digest` is known to be, oldest record first. */
  blobSources(digest: string): BlobSource[];
  deleteBlobSources(digest: string): void;

  /** Runs `fn` atomically; nested calls join the outer transaction. */
  transaction<T>(fn: () => T): T;
  /** Grows with every change of image records, so that caches of derived documents can tell. */
  readonly generation: number;
  close(): void;
}
