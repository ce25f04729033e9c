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

/** One link of the blob graph: `parent` (an index or manifest) lists `child` in its JSON. */
export interface BlobEdge {
  parent: string;
  child: string;
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
  /** Records whose name starts with `prefix`, in name order (a range of the primary key). */
  imagesWithPrefix(prefix: string): ImageRecord[];
  imagesByTarget(digest: string): ImageRecord[];
  /** Distinct target digests whose hex starts with `hexPrefix`, at most `limit` of them. */
  targetsByPrefix(hexPrefix: string, limit: number): string[];
  /** Distinct target digests: the images, however many names each has. */
  countTargets(): number;
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
  /**
   * The blob graph: which blobs each index and manifest lists, as read from their (immutable)
   * JSON. Written with the image records at load and pull, so that garbage collection asks SQLite
   * which blobs an image still reaches instead of walking every image (garbage-collector.ts).
   */
  putBlobEdges(edges: readonly BlobEdge[]): void;
  /** Whether an image record reaches `digest`, never passing through `detached` blobs (they may still be targets). */
  isBlobReachable(digest: string, detached?: ReadonlySet<string>): boolean;
  /** Every blob an image record reaches (the same rule, for many candidates at once). */
  reachableBlobs(detached?: ReadonlySet<string>): Set<string>;
  /** `digest` and every blob that reaches it through the graph. */
  blobAncestors(digest: string): string[];
  /** Forgets the edges out of a deleted blob and any facts kept of it or of what reaches it. */
  forgetBlob(digest: string): void;
  /** The blobs whose JSON lists `digest`. */
  blobParents(digest: string): string[];
  /** Every edge, for `ladingd check`. */
  listBlobEdges(): BlobEdge[];
  deleteBlobEdges(parent: string): void;
  /**
   * False for a data root written before the blob graph existed (schema 1): its edges must be
   * built by one walk of every image before garbage collection may trust them (markGraphBuilt).
   */
  readonly graphBuilt: boolean;
  markGraphBuilt(): void;

  /**
   * Facts of an image target derived from its blobs (the list's and disk usage's, image-list.ts),
   * kept as JSON under a key saying what they were computed for (format and host platform).
   */
  /** The stored facts of those of `digests` that have some under `key`. */
  getTargetFacts(digests: readonly string[], key: string): Map<string, string>;
  putTargetFacts(digest: string, key: string, json: string): void;
  clearTargetFacts(): void;
  /** Grows whenever stored target facts are dropped (forgetBlob, clearTargetFacts), for copies kept in memory. */
  readonly factsEpoch: number;

  /** Runs `fn` atomically; nested calls join the outer transaction. A full disk fails it with a NoSpaceError. */
  transaction<T>(fn: () => T): T;
  /**
   * A transaction that only removes records (an image's names, a deleted blob's edges and facts):
   * on a full disk it may take space held in reserve, so that freeing space works when nothing else
   * does. The delete methods above are removals of their own when called outside a transaction.
   */
  removal<T>(fn: () => T): T;
  /** Grows with every change of image records, so that caches of derived documents can tell. */
  readonly generation: number;
  close(): void;
}
