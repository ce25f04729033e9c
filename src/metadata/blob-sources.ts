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
 * Where blobs are known to be. The first role that is asynchronous, the pattern for the others
 * (metadata-store.ts): every method returns a Promise, and no caller calls one inside a
 * synchronous `transaction`. Sources are hints for mounts, so they are written after the records
 * they go with (a pull's naming, a sweep's removal) rather than in the same transaction: lost in a
 * crash between the two, a push uploads a blob it could have mounted. Once transactions are
 * `transaction(async (tx) => …)`, they go back into them.
 */
export interface BlobSources {
  /** Records each source once; one already known keeps its place. */
  addBlobSources(sources: readonly BlobSource[]): Promise<void>;
  /** Where `digest` is known to be, oldest record first (a push tries them in this order). */
  blobSources(digest: string): Promise<BlobSource[]>;
  deleteBlobSources(digest: string): Promise<void>;
}
