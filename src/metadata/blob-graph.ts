/** One link of the blob graph: `parent` (an index or manifest) lists `child` in its JSON. */
export interface BlobEdge {
  parent: string;
  child: string;
}

/**
 * The blob graph: which blobs each index and manifest lists, as read from their (immutable) JSON.
 * Written with the image records at load and pull, so that garbage collection asks the metadata
 * which blobs an image still reaches instead of walking every image (garbage-collector.ts).
 * Reachability starts at the targets of the image records (image-records.ts), so one
 * implementation holds both. Asynchronous, as every role (metadata-store.ts), but for `graphBuilt`.
 */
export interface BlobGraph {
  /** Adds edges; an edge already there is kept once. */
  putBlobEdges(edges: readonly BlobEdge[]): Promise<void>;
  /** Whether an image record reaches `digest`, never passing through `detached` blobs (they may still be targets). */
  isBlobReachable(digest: string, detached?: ReadonlySet<string>): Promise<boolean>;
  /** Every blob an image record reaches (the same rule, for many candidates at once). */
  reachableBlobs(detached?: ReadonlySet<string>): Promise<Set<string>>;
  /** `digest` and every blob that reaches it through the graph. */
  blobAncestors(digest: string): Promise<string[]>;
  /**
   * Forgets the edges out of a deleted blob and any target facts kept of it or of what reaches it
   * (target-facts.ts: `factsEpoch` moves).
   */
  forgetBlob(digest: string): Promise<void>;
  /** The blobs whose JSON lists `digest`. */
  blobParents(digest: string): Promise<string[]>;
  /** Every edge, ordered by parent then child, for `ladingd check`. */
  listBlobEdges(): Promise<BlobEdge[]>;
  deleteBlobEdges(parent: string): Promise<void>;
  /**
   * False for a data root written before the blob graph existed (schema 1): its edges must be
   * built by one walk of every image before garbage collection may trust them (markGraphBuilt).
   * Read at open and kept in memory.
   */
  readonly graphBuilt: boolean;
  markGraphBuilt(): Promise<void>;
}
