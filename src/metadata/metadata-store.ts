import type { MetadataRoles, TransactionScope } from './metadata-transaction.js';

export type { BlobEdge, BlobGraph } from './blob-graph.js';
export type { BlobSource, BlobSources } from './blob-sources.js';
export type { ImageRecord, ImageRecords } from './image-records.js';
export type { LayerFacts, LayerFactsStore } from './layer-facts-store.js';
export type { MetadataRoles, MetadataTx, TransactionScope } from './metadata-transaction.js';
export type { StoredTargetFacts } from './target-facts.js';
export type { TargetPageQuery, TargetPages, TargetRow } from './target-pages.js';

/**
 * Image records and derived facts: the composition of the metadata roles, one implementation
 * (SQLite, sqlite-metadata-store.ts) holding them all. A consumer that needs one role takes that
 * role's interface; each role has a conformance suite (testing/metadata-conformance.ts).
 *
 * Asynchronous, so that a networked database (PostgreSQL, for several daemons) can implement the
 * roles:
 * - every role method returns a Promise; callers await;
 * - writes that belong together go through `transaction(async (tx) => …)` (metadata-transaction.ts);
 * - `generation`, `factsEpoch` and `graphBuilt` are synchronous properties held in memory: the
 *   API's response caches (inspect, list, df) compare them on every request without a round trip;
 * - SQLite keeps its statements synchronous inside (better-sqlite3 has no other kind) and resolves
 *   at once; what inspect and list need per request stays in the caches rendered once per
 *   generation (InspectResponses, TargetFactsStore's parsed facts), so a hit touches no database.
 *   A PostgreSQL store fills the same caches and moves `generation` when another daemon's change
 *   is announced.
 */
export interface MetadataStore extends MetadataRoles, TransactionScope {
  /** Waits for the transactions in progress, then closes. */
  close(): Promise<void>;
}
