// The metadata suites must catch a broken implementation: each store here breaks one promise, and
// the suite's checks are run against it as functions (failedChecks) rather than as tests.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BlobEdge } from './blob-graph.js';
import { failedChecks, type Harness } from '../util/conformance.js';
import { SqliteMetadataStore } from './sqlite-metadata-store.js';
import { blobGraphChecks, metadataTransactionChecks } from './testing/blob-graph-conformance.js';
import { imageRecordsChecks } from './testing/metadata-conformance.js';
import { sqliteHarness } from './testing/sqlite-harness.js';

/** A blob graph that forgets the last edge of every write. */
class ForgetfulGraph extends SqliteMetadataStore {
  override putBlobEdges(edges: readonly BlobEdge[]): void {
    super.putBlobEdges(edges.slice(0, -1));
  }
}

/** Transactions that are not: each write inside commits on its own. */
class NonAtomic extends SqliteMetadataStore {
  override transaction<T>(fn: () => T): T {
    return fn();
  }
  override removal<T>(fn: () => T): T {
    return fn();
  }
}

const broken = (Store: typeof SqliteMetadataStore) => (): Promise<Harness<SqliteMetadataStore>> =>
  sqliteHarness((file) => new Store(file));

describe('metadata conformance suites against broken stores', () => {
  it('fail a blob graph that forgets an edge', async (t) => {
    const failed = await failedChecks(blobGraphChecks, broken(ForgetfulGraph));
    for (const f of failed) t.diagnostic(`${f.name}: ${f.message}`);
    assert.deepEqual(failed.map((f) => f.name), ['edges are kept once each and listed by parent, then child; parents by child']);
  });

  it('fail transactions that are not atomic', async (t) => {
    const failed = [...(await failedChecks(imageRecordsChecks, broken(NonAtomic))), ...(await failedChecks(metadataTransactionChecks, broken(NonAtomic)))];
    for (const f of failed) t.diagnostic(`${f.name}: ${f.message}`);
    assert.deepEqual(failed.map((f) => f.name), [
      'a transaction that throws halfway leaves nothing; one that returns keeps all',
      'a nested transaction joins the outer: the outer failing takes the inner with it',
      'an inner transaction that fails and is caught undoes only its own writes',
      'a removal that throws halfway removes nothing',
      'a transaction writing every role that throws halfway leaves nothing of any',
      'a removal of what a sweep forgets that throws halfway removes nothing',
    ]);
  });
});
