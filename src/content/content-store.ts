import type { Readable } from 'node:stream';
import { InvalidArgumentError, LadingError } from '../errors.js';

/** What a blob is known by: its digest and its size in bytes. */
export interface BlobInfo {
  digest: string;
  size: number;
}

/**
 * An open write into the store's ingest area. Nothing becomes visible until `commit` has checked
 * the digest (and size) of what was written.
 */
export interface BlobWriter {
  write(chunk: Uint8Array): Promise<void>;
  /** Bytes written so far. */
  readonly written: number;
  /**
   * For a reader on another thread that reads the blob as it is written (a load's layer analysis):
   * the file being written, the bytes already in it, and `onWritten` told the total each time more
   * reach it. Absent in stores without files; the file may be renamed or removed at commit or abort.
   */
  follow?(onWritten: (bytes: number) => void): { file: string; written: number };
  /**
   * Verifies, syncs and moves the blob into place; idempotent when the blob already exists.
   * `beforePublish` is awaited with the verified digest and size before the blob becomes visible
   * (renamed into place, or uploaded): a lease taken there is recorded before any other replica
   * can find the blob, so no sweep takes it between the upload and the naming (garbage-collector.ts).
   */
  commit(expected?: Partial<BlobInfo>, beforePublish?: BeforePublish): Promise<BlobInfo>;
  /** Discards what was written. Safe to call after commit or twice. */
  abort(): Promise<void>;
}

/** What a writer's commit awaits once the digest is verified and before the blob is published. */
export type BeforePublish = (info: BlobInfo) => Promise<void>;

/** `writer` as it is, committing through `commit` instead (which may call the writer's own). */
export function withCommit(writer: BlobWriter, commit: BlobWriter['commit']): BlobWriter {
  return {
    write: (chunk) => writer.write(chunk),
    get written() {
      return writer.written;
    },
    // The load's analysis reads a layer as it is written (layer-analysis-pool.ts followLayerWrite).
    ...(writer.follow ? { follow: (onWritten: (bytes: number) => void) => writer.follow!(onWritten) } : {}),
    commit,
    abort: () => writer.abort(),
  };
}

/**
 * The content-addressed blob store. Only this module knows where blobs live; callers name them by
 * digest. Every blob it returns was verified against its digest when it was written.
 */
export interface ContentStore {
  info(digest: string): Promise<BlobInfo | undefined>;
  has(digest: string): Promise<boolean>;
  /**
   * Reads a small blob whole (manifests, configs); refuses blobs larger than maxBytes. Like
   * `createReadStream`, checks the bytes against the digest: a BlobCorruptError if they differ.
   */
  readBytes(digest: string, maxBytes?: number): Promise<Buffer>;
  /** The blob's bytes; the stream fails with a BlobCorruptError, before its last chunk, if they do not hash to `digest`. */
  createReadStream(digest: string): Readable;
  /**
   * The file holding a committed blob, for readers on other threads (worker threads cannot share a
   * stream); absent in stores without files. Valid while the blob is leased.
   */
  blobFile?(digest: string): string;
  openWriter(): Promise<BlobWriter>;
  /** Writes a small blob whole; verifies it against `expected` when given. */
  writeBytes(data: Uint8Array, expected?: Partial<BlobInfo>): Promise<BlobInfo>;
  delete(digest: string): Promise<boolean>;
  list(): AsyncIterable<BlobInfo>;
  /** Removes leftovers of writes interrupted by a crash. */
  cleanIngest(): Promise<number>;
  /**
   * Where the store keeps blobs beyond this process's say (a registry, whose own garbage collector
   * deletes what no tagged manifest holds): what keeps each stored target's blobs there. Absent in
   * stores that keep every blob until `delete` (the embedded one), which is the same as no-ops.
   */
  readonly holds?: BlobHolds;
}

/**
 * Keeps the blobs of a stored image target in a store that would otherwise reclaim them: taken
 * before the records naming the target commit, let go when garbage collection deletes the target.
 */
export interface BlobHolds {
  /** Holds `blobs` (every present blob under `target`, itself included) for `target`, replacing what was held for it. */
  hold(target: string, blobs: readonly BlobInfo[]): Promise<void>;
  /** Lets go of what `hold` kept for `target`; false when nothing was held. */
  release(target: string): Promise<boolean>;
}

/** What a writer's `commit` checks of what was written against what the caller expected. */
export function checkExpected(expected: Partial<BlobInfo> | undefined, actual: BlobInfo): void {
  if (expected?.size !== undefined && expected.size !== actual.size) {
    throw new InvalidArgumentError(`size mismatch: expected ${expected.size} bytes, got ${actual.size}`);
  }
  if (expected?.digest !== undefined && expected.digest !== actual.digest) throw new DigestMismatchError(expected.digest, actual.digest);
}

/** `writeBytes` for a store whose writers come from `openWriter`: one writer, never left open. */
export async function writeWhole(openWriter: () => Promise<BlobWriter>, data: Uint8Array, expected?: Partial<BlobInfo>): Promise<BlobInfo> {
  const writer = await openWriter();
  try {
    await writer.write(data);
    return await writer.commit(expected);
  } finally {
    await writer.abort();
  }
}

/** What `commit` throws when the bytes written do not hash to the digest the caller expected. */
export class DigestMismatchError extends InvalidArgumentError {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`digest mismatch: expected ${expected}, got ${actual}`);
  }
}

/**
 * What a read throws when a stored blob's bytes no longer hash to its digest: the disk changed
 * them after they were verified and committed. The store is corrupt, not the request: Docker's
 * errdefs call this data loss, a 500. The image service logs it once, naming the images it breaks.
 */
export class BlobCorruptError extends LadingError {
  constructor(
    readonly digest: string,
    readonly actual: string,
    /** Where the bytes came from and what to do, when not the data root's disk. */
    message = `content ${digest} is corrupt in the store (its bytes hash to ${actual}): run \`ladingd check --repair\` on the data root`,
  ) {
    super('data-loss', message);
  }
}
