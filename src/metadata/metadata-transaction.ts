import type { BlobGraph } from './blob-graph.js';
import type { BlobSources } from './blob-sources.js';
import type { ImageRecords } from './image-records.js';
import type { LayerFactsStore } from './layer-facts-store.js';
import type { StoredTargetFacts } from './target-facts.js';
import type { TargetPages } from './target-pages.js';

/** The roles as seen inside one transaction: every call through `tx` is part of it. */
export type MetadataRoles = ImageRecords & LayerFactsStore & BlobSources & BlobGraph & StoredTargetFacts & TargetPages;

/**
 * The transaction scope of the metadata roles: what a load or pull names, and what a sweep
 * forgets, is written whole or not at all.
 *
 * `fn` gets `tx`, the roles bound to the transaction, and may await anything between its calls;
 * every write that belongs to the transaction goes through `tx` (a call on the store itself is a
 * transaction of its own, which waits for this one to end, and a read on the store sees only what
 * is committed). A `tx` is good until `fn` settles: a call after that is refused. SQLite honours it
 * with one write queue per store, `BEGIN IMMEDIATE` on the write connection and a second connection
 * for the reads outside; PostgreSQL with a pooled connection for `BEGIN … COMMIT`. `tx.transaction`
 * inside joins it as a savepoint: a failed inner part undoes only its own writes.
 */
export interface TransactionScope {
  /** Runs `fn` atomically: all of tx's writes commit, or none. A full disk fails it with a NoSpaceError. */
  transaction<T>(fn: (tx: MetadataTx) => Promise<T>): Promise<T>;
  /**
   * A transaction that only removes records (an image's names, a deleted blob's edges and facts):
   * on a full disk it may take space held in reserve, and is then run once more, so `fn` must be
   * safe to run again. Freeing space works when nothing else does. The delete methods of the roles
   * are removals of their own when called outside a transaction.
   */
  removal<T>(fn: (tx: MetadataTx) => Promise<T>): Promise<T>;
}

export type MetadataTx = MetadataRoles & TransactionScope;
