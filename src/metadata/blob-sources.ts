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
 * Where blobs are known to be. Written in the transaction of the records they go with (a pull's
 * naming, a sweep's removal), so a crash never keeps sources of a blob that is gone nor loses those
 * of an image that was named; a push's sources are a write of their own.
 */
export interface BlobSources {
  /** Records each source once; one already known keeps its place. */
  addBlobSources(sources: readonly BlobSource[]): Promise<void>;
  /** Where `digest` is known to be, oldest record first (a push tries them in this order). */
  blobSources(digest: string): Promise<BlobSource[]>;
  deleteBlobSources(digest: string): Promise<void>;
}
