import type { BlobGraph } from './blob-graph.js';
import type { BlobSources } from './blob-sources.js';
import type { ImageRecords } from './image-records.js';
import type { LayerFactsStore } from './layer-facts-store.js';
import type { TransactionScope } from './metadata-transaction.js';
import type { StoredTargetFacts } from './target-facts.js';

export type { BlobEdge, BlobGraph } from './blob-graph.js';
export type { BlobSource, BlobSources } from './blob-sources.js';
export type { ImageRecord, ImageRecords } from './image-records.js';
export type { LayerFacts, LayerFactsStore } from './layer-facts-store.js';
export type { TransactionScope } from './metadata-transaction.js';
export type { StoredTargetFacts } from './target-facts.js';

/**
 * Image records and derived facts: the composition of the metadata roles, one implementation
 * (SQLite, sqlite-metadata-store.ts) holding them all. A consumer that needs one role takes that
 * role's interface; each role has a conformance suite (testing/metadata-conformance.ts).
 *
 * Synchronous today: the SQLite implementation answers in microseconds, which keeps inspect off
 * the event loop's slow paths. The async design, the next step, so that a networked database
 * (PostgreSQL, for several daemons) can implement the roles:
 * - every role method returns a Promise; callers await; the conformance suites already do;
 * - writes go through `transaction(async (tx) => …)` (metadata-transaction.ts);
 * - `generation` and `factsEpoch` stay synchronous properties held in memory: the API's response
 *   caches (inspect, list, df) compare them on every request without a round trip;
 * - SQLite keeps its reads synchronous inside (better-sqlite3 has no other kind) and resolves at
 *   once; what inspect and list need per request stays in the caches rendered once per generation
 *   (InspectResponses, TargetFactsStore's parsed facts), so a hit still touches no database and
 *   inspect keeps its target. A PostgreSQL store fills the same caches and moves `generation` when
 *   another daemon's change is announced.
 */
export interface MetadataStore extends ImageRecords, LayerFactsStore, BlobSources, BlobGraph, StoredTargetFacts, TransactionScope {
  close(): void;
}
