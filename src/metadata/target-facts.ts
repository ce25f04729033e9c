import type { TargetRow } from './target-pages.js';

/**
 * Facts of an image target derived from its blobs (the list's and disk usage's, image-list.ts),
 * kept as JSON under a key saying what they were computed for (format and host platform). The blob
 * graph drops them when a blob under the target goes (blob-graph.ts, forgetBlob). Asynchronous, as
 * every role (metadata-store.ts), but for `factsEpoch`, kept in memory.
 */
export interface StoredTargetFacts {
  /** The stored facts of those of `digests` that have some under `key`. */
  getTargetFacts(digests: readonly string[], key: string): Promise<Map<string, string>>;
  /** Replaces what `digest` had, under any key; `row`, the list's row of it (target-pages.ts), in the same write. */
  putTargetFacts(digest: string, key: string, json: string, row?: TargetRow): Promise<void>;
  clearTargetFacts(): Promise<void>;
  /** Grows once a drop of stored target facts (forgetBlob, clearTargetFacts) commits, for copies kept in memory. */
  readonly factsEpoch: number;
}
