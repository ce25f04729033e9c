/**
 * Conformance suite of the blob graph (with the image records it starts from and the target facts
 * it drops), and of transactions across every metadata role. See metadata-conformance.ts.
 */
import assert from 'node:assert/strict';
import { runConformance, type ConformanceCheck, type HarnessFactory } from '../../util/conformance.js';
import type { BlobEdge, BlobGraph } from '../blob-graph.js';
import type { ImageRecords } from '../image-records.js';
import type { MetadataStore } from '../metadata-store.js';
import type { MetadataRoles, MetadataTx, TransactionScope } from '../metadata-transaction.js';
import type { StoredTargetFacts } from '../target-facts.js';
import { deferred, digest, record, tick } from './metadata-conformance.js';

export type BlobGraphUnderTest = BlobGraph & ImageRecords & StoredTargetFacts & TransactionScope;

/**
 * Image `a` targets index I (manifests M1, M2); `b` targets manifest M3. Every manifest lists its
 * config and layer L0, shared; M1 and M2 one own layer each. OM (listing L9) is named by no image.
 */
const G = {
  I: digest('1a'),
  M1: digest('2a'),
  M2: digest('2b'),
  M3: digest('2c'),
  C1: digest('3a'),
  C2: digest('3b'),
  C3: digest('3c'),
  L0: digest('40'),
  L1: digest('41'),
  L2: digest('42'),
  OM: digest('5a'),
  L9: digest('49'),
};
const ALL = Object.values(G);
const EDGES: BlobEdge[] = [
  { parent: G.I, child: G.M1 },
  { parent: G.I, child: G.M2 },
  { parent: G.M1, child: G.C1 },
  { parent: G.M1, child: G.L0 },
  { parent: G.M1, child: G.L1 },
  { parent: G.M2, child: G.C2 },
  { parent: G.M2, child: G.L0 },
  { parent: G.M2, child: G.L2 },
  { parent: G.M3, child: G.C3 },
  { parent: G.M3, child: G.L0 },
  { parent: G.OM, child: G.L9 },
];
const A = 'docker.io/library/a:1';
const B = 'docker.io/library/b:1';

async function graph(store: BlobGraphUnderTest): Promise<void> {
  await store.transaction(async (tx) => {
    await tx.putBlobEdges(EDGES);
    await tx.putImage(record(A, G.I));
    await tx.putImage(record(B, G.M3));
  });
}

const sorted = (values: Iterable<string>): string[] => [...values].sort();

async function reachable(store: BlobGraphUnderTest, detached?: ReadonlySet<string>): Promise<string[]> {
  const out: string[] = [];
  for (const d of ALL) if (await store.isBlobReachable(d, detached)) out.push(d);
  return out.sort();
}

export const blobGraphChecks: Array<ConformanceCheck<BlobGraphUnderTest>> = [
  {
    name: 'edges are kept once each and listed by parent, then child; parents by child',
    async run(store) {
      await store.putBlobEdges(EDGES.slice(0, 5));
      await store.putBlobEdges(EDGES);
      await store.putBlobEdges([]);
      const byParentChild = (x: BlobEdge, y: BlobEdge): number => (x.parent === y.parent ? (x.child < y.child ? -1 : 1) : x.parent < y.parent ? -1 : 1);
      assert.deepEqual(await store.listBlobEdges(), [...EDGES].sort(byParentChild), 'every edge written, once, by parent then child');
      assert.deepEqual(sorted(await store.blobParents(G.L0)), sorted([G.M1, G.M2, G.M3]));
      assert.deepEqual(await store.blobParents(G.I), []);
    },
  },
  {
    name: 'an image reaches its target and everything under it; nothing reaches what no image names',
    async run(store) {
      await graph(store);
      assert.deepEqual(await reachable(store), sorted(ALL.filter((d) => d !== G.OM && d !== G.L9)));
      assert.equal(await store.isBlobReachable(digest('99')), false, 'a blob the graph does not know');
    },
  },
  {
    name: 'a removed image no longer reaches what only it reached; a shared layer stays',
    async run(store) {
      await graph(store);
      await store.deleteImage(A);
      assert.deepEqual(await reachable(store), sorted([G.M3, G.C3, G.L0]));
      await store.deleteImage(B);
      assert.deepEqual(await reachable(store), []);
    },
  },
  {
    name: 'nothing is reached through a detached manifest, unless an image targets it',
    async run(store) {
      await graph(store);
      const detached = new Set([G.M2]);
      assert.deepEqual(await reachable(store, detached), sorted(ALL.filter((d) => ![G.M2, G.C2, G.L2, G.OM, G.L9].includes(d))));
      assert.equal(await store.isBlobReachable(G.L0, detached), true, 'L0 is reached through M1 still');
      await store.putImage(record('docker.io/library/m2:1', G.M2));
      assert.equal(await store.isBlobReachable(G.M2, detached), true, 'a target is reached, detached or not');
      assert.equal(await store.isBlobReachable(G.L2, detached), true, 'and so is what it lists');
    },
  },
  {
    name: 'reachableBlobs agrees with isBlobReachable, with and without detached blobs',
    async run(store) {
      await graph(store);
      for (const detached of [undefined, new Set<string>(), new Set([G.M1]), new Set([G.M1, G.M2])]) {
        const all = await store.reachableBlobs(detached);
        assert.deepEqual(sorted([...all].filter((d) => ALL.includes(d))), await reachable(store, detached), `detached ${[...(detached ?? [])].join()}`);
      }
    },
  },
  {
    name: 'blobAncestors is the blob and every blob above it',
    async run(store) {
      await graph(store);
      assert.deepEqual(sorted(await store.blobAncestors(G.L0)), sorted([G.L0, G.M1, G.M2, G.M3, G.I]));
      assert.deepEqual(sorted(await store.blobAncestors(G.L1)), sorted([G.L1, G.M1, G.I]));
      assert.deepEqual(await store.blobAncestors(G.I), [G.I]);
    },
  },
  {
    name: 'forgetBlob drops the edges out of the blob and the facts of what reaches it, and moves factsEpoch',
    async run(store) {
      await graph(store);
      await store.transaction(async (tx) => {
        for (const d of [G.I, G.M1, G.M3]) await tx.putTargetFacts(d, 'k', `{"of":"${d}"}`);
      });
      const epoch = store.factsEpoch;
      await store.forgetBlob(G.M1);
      assert.ok(store.factsEpoch > epoch, 'factsEpoch moved');
      assert.deepEqual([...(await store.getTargetFacts([G.I, G.M1, G.M3], 'k')).keys()], [G.M3], 'only the facts of M3 stay');
      assert.deepEqual((await store.listBlobEdges()).filter((e) => e.parent === G.M1), []);
      assert.equal(await store.isBlobReachable(G.L1), false, 'what only M1 listed is unreached');
      assert.equal(await store.isBlobReachable(G.M1), true, 'I still lists M1');
    },
  },
  {
    name: 'deleteBlobEdges forgets what a blob lists',
    async run(store) {
      await graph(store);
      await store.deleteBlobEdges(G.M2);
      assert.equal(await store.isBlobReachable(G.L2), false);
      assert.equal(await store.isBlobReachable(G.M2), true);
    },
  },
  {
    name: 'a new store has its (empty) graph built, and says so after markGraphBuilt',
    async run(store) {
      assert.equal(store.graphBuilt, true);
      await store.markGraphBuilt();
      assert.equal(store.graphBuilt, true);
    },
  },
];

export function runBlobGraphConformance(name: string, factory: HarnessFactory<BlobGraphUnderTest>): void {
  runConformance(`blob graph conformance: ${name}`, blobGraphChecks, factory);
}

// ----------------------------------------------------------------------- transactions, all roles

const LAYER = { digest: G.L1, diffId: digest('d1'), unpackedSize: 10 };
const SOURCE = { digest: G.L1, registry: 'registry-1.docker.io', repository: 'library/a' };

/** What a pull writes when it names its image (image-pull.ts), in one transaction, awaiting between steps. */
async function writeAll(tx: MetadataTx): Promise<void> {
  await tx.putLayerFacts(LAYER);
  await tick();
  await tx.putBlobEdges(EDGES);
  await tx.putImage(record(A, G.I));
  await tick();
  await tx.putTargetFacts(G.I, 'k', '{}');
  await tx.addBlobSources([SOURCE]);
}

async function snapshot(store: MetadataRoles): Promise<unknown> {
  return {
    images: await store.listImages(),
    edges: await store.listBlobEdges(),
    layers: await store.listLayerFacts(),
    sources: await store.blobSources(G.L1),
    facts: [...(await store.getTargetFacts([G.I], 'k'))],
  };
}

export const metadataTransactionChecks: Array<ConformanceCheck<MetadataStore>> = [
  {
    name: 'a transaction writing every role that throws halfway leaves nothing of any',
    async run(store) {
      const empty = await snapshot(store);
      await assert.rejects(
        store.transaction(async (tx) => {
          await writeAll(tx);
          await tick();
          throw new Error('halfway');
        }),
        /halfway/,
      );
      assert.deepEqual(await snapshot(store), empty, 'nothing of the failed transaction is left');
      await store.transaction(writeAll);
      assert.notDeepEqual(await snapshot(store), empty);
    },
  },
  {
    name: 'a read of any role outside a transaction sees none of its writes until it commits',
    async run(store) {
      const empty = await snapshot(store);
      const written = deferred();
      const go = deferred();
      let inside: unknown;
      const tx = store.transaction(async (tx) => {
        await writeAll(tx);
        inside = await snapshot(tx);
        written.resolve();
        await go.promise;
      });
      await written.promise;
      try {
        assert.notDeepEqual(inside, empty, 'the transaction sees its own writes');
        assert.deepEqual(await snapshot(store), empty, 'outside, nothing is seen before the commit');
        assert.equal(await store.isBlobReachable(G.L1), false, 'nor reached');
      } finally {
        // Ended either way, so that the store can close.
        go.resolve();
        await tx;
      }
      assert.deepEqual(await snapshot(store), inside, 'after it, everything');
    },
  },
  {
    name: 'a removal of what a sweep forgets that throws halfway removes nothing, and leaves factsEpoch',
    async run(store) {
      await store.transaction(writeAll);
      await store.deleteImage(A);
      const before = await snapshot(store);
      const epoch = store.factsEpoch;
      await assert.rejects(
        store.removal(async (tx) => {
          await tx.forgetBlob(G.M1);
          await tick();
          await tx.deleteLayerFacts(G.L1);
          await tx.deleteBlobSources(G.L1);
          throw new Error('halfway');
        }),
        /halfway/,
      );
      assert.deepEqual(await snapshot(store), before, 'nothing of the failed removal happened');
      assert.equal(store.factsEpoch, epoch, 'no facts were dropped');
    },
  },
];

export function runMetadataTransactionConformance(name: string, factory: HarnessFactory<MetadataStore>): void {
  runConformance(`metadata transactions conformance: ${name}`, metadataTransactionChecks, factory);
}
