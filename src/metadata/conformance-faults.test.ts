// The metadata suites must catch a broken implementation: each store here breaks one promise, and
// the suite's checks are run against it as functions (failedChecks) rather than as tests.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failedChecks, type Harness } from '../util/conformance.js';
import type { MetadataStore } from './metadata-store.js';
import type { MetadataTx } from './metadata-transaction.js';
import { blobGraphChecks, metadataTransactionChecks } from './testing/blob-graph-conformance.js';
import { imageRecordsChecks } from './testing/metadata-conformance.js';
import { overrideMetadataStore, type MetadataOverrides } from './testing/metadata-override.js';
import { sqliteHarness } from './testing/sqlite-harness.js';

/** A blob graph that forgets the last edge of every write, in a transaction or not. */
const forgetfulGraph: MetadataOverrides = (inner) => ({
  putBlobEdges: (edges) => inner.putBlobEdges(edges.slice(0, -1)),
});

/** Transactions that are not: each write inside commits on its own. */
const nonAtomic: MetadataOverrides = (_inner, self) => ({
  transaction: (fn) => fn(self),
  removal: (fn) => fn(self),
});

/**
 * One connection for everything, as a naive store on a single database handle would be: a call
 * on the store while a transaction is open runs inside that transaction.
 */
function sharedConnection(): MetadataOverrides {
  let open: MetadataTx | undefined;
  const through = (inner: MetadataTx): MetadataTx => open ?? inner;
  return (inner) => ({
    transaction: (fn) =>
      inner.transaction(async (tx) => {
        const outer = open;
        open = tx;
        try {
          return await fn(tx);
        } finally {
          open = outer;
        }
      }),
    listImages: () => through(inner).listImages(),
    getImage: (name) => through(inner).getImage(name),
    imagesByTarget: (digest) => through(inner).imagesByTarget(digest),
    listBlobEdges: () => through(inner).listBlobEdges(),
    listLayerFacts: () => through(inner).listLayerFacts(),
    blobSources: (digest) => through(inner).blobSources(digest),
    getTargetFacts: (digests, key) => through(inner).getTargetFacts(digests, key),
    isBlobReachable: (digest, detached) => through(inner).isBlobReachable(digest, detached),
    putImage: (record) => through(inner).putImage(record),
  });
}

const broken = (overrides: () => MetadataOverrides) => async (): Promise<Harness<MetadataStore>> => {
  const harness = await sqliteHarness();
  return { store: overrideMetadataStore(harness.store, overrides()), close: () => harness.close() };
};

describe('metadata conformance suites against broken stores', () => {
  it('fail a blob graph that forgets an edge', async (t) => {
    const failed = await failedChecks(blobGraphChecks, broken(() => forgetfulGraph));
    for (const f of failed) t.diagnostic(`${f.name}: ${f.message}`);
    assert.deepEqual(failed.map((f) => f.name), ['edges are kept once each and listed by parent, then child; parents by child']);
  });

  it('fail transactions that are not atomic', async (t) => {
    const failed = [...(await failedChecks(imageRecordsChecks, broken(() => nonAtomic))), ...(await failedChecks(metadataTransactionChecks, broken(() => nonAtomic)))];
    for (const f of failed) t.diagnostic(`${f.name}: ${f.message}`);
    assert.deepEqual(failed.map((f) => f.name), [
      'two transactions whose steps interleave each commit whole, or the failing one leaves nothing',
      'a transaction that throws halfway leaves nothing; one that returns keeps all',
      'a read outside a transaction does not see its writes before it commits; its own reads do',
      'generation moves once a transaction commits, never for one that fails',
      'a nested transaction joins the outer: the outer failing takes the inner with it',
      'an inner transaction that fails and is caught undoes only its own writes',
      'a removal that throws halfway removes nothing',
      'a transaction writing every role that throws halfway leaves nothing of any',
      'a read of any role outside a transaction sees none of its writes until it commits',
      'a removal of what a sweep forgets that throws halfway removes nothing, and leaves factsEpoch',
    ]);
  });

  it('fail a store whose calls outside a transaction run inside the one that is open', async (t) => {
    const failed = [
      ...(await failedChecks(imageRecordsChecks, broken(sharedConnection))),
      ...(await failedChecks(metadataTransactionChecks, broken(sharedConnection))),
    ];
    for (const f of failed) t.diagnostic(`${f.name}: ${f.message}`);
    assert.deepEqual(failed.map((f) => f.name), [
      'two transactions whose steps interleave each commit whole, or the failing one leaves nothing',
      'a read outside a transaction does not see its writes before it commits; its own reads do',
      'a read of any role outside a transaction sees none of its writes until it commits',
    ]);
  });
});
