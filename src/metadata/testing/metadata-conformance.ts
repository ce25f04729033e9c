/**
 * Conformance suites of the metadata roles, written once against the interfaces and run against
 * every implementation (sqlite-metadata-conformance.test.ts; PostgreSQL next). Transactions are
 * checked as callers use them: several at once, awaiting between their steps, failing halfway, with
 * reads outside them meanwhile. What is checked is what the callers rely on:
 * resolve.ts, image-list.ts, image-tag.ts, image-remove.ts, image-push.ts and the garbage collector.
 */
import assert from 'node:assert/strict';
import type { Descriptor } from '../../oci/types.js';
import { runConformance, type ConformanceCheck, type HarnessFactory } from '../../util/conformance.js';
import type { BlobSources } from '../blob-sources.js';
import type { ImageRecord, ImageRecords } from '../image-records.js';
import type { LayerFactsStore } from '../layer-facts-store.js';
import type { TransactionScope } from '../metadata-transaction.js';
import type { StoredTargetFacts } from '../target-facts.js';

/** `sha256:` and 64 hex digits starting with `hex` (padded with its last character). */
export function digest(hex: string): string {
  return `sha256:${hex.padEnd(64, hex.at(-1) ?? '0')}`;
}

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

function target(d: string): Descriptor {
  return { mediaType: MANIFEST, digest: d, size: 100 };
}

export function record(name: string, d: string, at = '2026-01-01T00:00:00.000000000Z'): ImageRecord {
  return { name, target: target(d), createdAt: at, updatedAt: at };
}

const names = (records: readonly ImageRecord[]): string[] => records.map((r) => r.name);
const sorted = (values: Iterable<string>): string[] => [...values].sort();
export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

// ------------------------------------------------------------------------------- image records

export type ImageRecordsUnderTest = ImageRecords & TransactionScope;

/** Names in an order that is not name order, from several registries and the dangling form. */
const MIXED = [
  'docker.io/library/zzz:1',
  'moby-dangling@sha256:' + 'a'.repeat(64),
  'docker.io/library/alpine:latest',
  'localhost:5000/alpine:1',
  'docker.io/library/alpinex:1',
  'docker.io/me/alpine:1',
  'docker.io/library/alpine:3',
  'docker.io/library/alpin:1',
];

export const imageRecordsChecks: Array<ConformanceCheck<ImageRecordsUnderTest>> = [
  {
    name: 'an absent name reads as undefined and deletes as false',
    async run(store) {
      assert.equal(await store.getImage('docker.io/library/none:1'), undefined);
      assert.equal(await store.deleteImage('docker.io/library/none:1'), false);
      assert.deepEqual(await store.listImages(), []);
      assert.equal(await store.countTargets(), 0);
    },
  },
  {
    name: 'a put reads back whole; a put of the same name moves it and keeps createdAt',
    async run(store) {
      const first = record('docker.io/library/a:1', digest('1'), '2026-01-01T00:00:00.000000001Z');
      await store.putImage(first);
      assert.deepEqual(await store.getImage(first.name), first);
      const moved = record(first.name, digest('2'), '2026-02-02T00:00:00.000000002Z');
      await store.putImage(moved);
      assert.deepEqual(await store.getImage(first.name), { ...moved, createdAt: first.createdAt });
      assert.deepEqual(names(await store.imagesByTarget(digest('1'))), []);
      assert.equal(await store.deleteImage(first.name), true);
      assert.equal(await store.getImage(first.name), undefined);
    },
  },
  {
    name: 'listImages is in name order',
    async run(store) {
      for (const [i, name] of MIXED.entries()) await store.putImage(record(name, digest(`${i}`)));
      assert.deepEqual(names(await store.listImages()), [...MIXED].sort());
    },
  },
  {
    name: 'imagesWithPrefix is exactly the names starting with the prefix, in name order',
    async run(store) {
      for (const [i, name] of MIXED.entries()) await store.putImage(record(name, digest(`${i}`)));
      const expect = async (prefix: string): Promise<void> =>
        assert.deepEqual(names(await store.imagesWithPrefix(prefix)), MIXED.filter((n) => n.startsWith(prefix)).sort(), prefix);
      for (const prefix of ['docker.io/library/alpine', 'docker.io/library/alpin', 'docker.io/', 'localhost:5000/', 'moby-dangling', 'nothing', '']) {
        await expect(prefix);
      }
    },
  },
  {
    name: 'imagesByTarget and countTargets: names per target, in name order; targets counted once',
    async run(store) {
      await store.putImage(record('docker.io/library/b:1', digest('b')));
      await store.putImage(record('docker.io/library/a:1', digest('b')));
      await store.putImage(record('docker.io/library/c:1', digest('c')));
      assert.deepEqual(names(await store.imagesByTarget(digest('b'))), ['docker.io/library/a:1', 'docker.io/library/b:1']);
      assert.deepEqual(names(await store.imagesByTarget(digest('d'))), []);
      assert.equal(await store.countTargets(), 2);
    },
  },
  {
    name: 'targetsByPrefix gives distinct targets whose hex starts with the prefix, at most limit',
    async run(store) {
      await store.putImage(record('docker.io/library/a:1', digest('ab1')));
      await store.putImage(record('docker.io/library/a:2', digest('ab1')));
      await store.putImage(record('docker.io/library/b:1', digest('ab2')));
      await store.putImage(record('docker.io/library/c:1', digest('ac')));
      assert.deepEqual(sorted(await store.targetsByPrefix('ab', 10)), [digest('ab1'), digest('ab2')]);
      assert.equal((await store.targetsByPrefix('ab', 1)).length, 1, 'the limit');
      assert.deepEqual(sorted(await store.targetsByPrefix('a', 2)).length, 2);
      assert.deepEqual(await store.targetsByPrefix(digest('ac').slice(7), 2), [digest('ac')], 'a whole digest');
      assert.deepEqual(await store.targetsByPrefix('b', 2), []);
    },
  },
  {
    name: 'generation moves on every change of records, not on reads',
    async run(store) {
      let last = store.generation;
      const moved = async (what: string): Promise<void> => {
        const now = store.generation;
        assert.ok(now > last, `${what} moves the generation`);
        last = now;
      };
      await store.putImage(record('docker.io/library/a:1', digest('1')));
      await moved('a put');
      await store.putImage(record('docker.io/library/a:1', digest('2')));
      await moved('a put moving a name');
      await store.transaction(async (tx) => tx.putImage(record('docker.io/library/b:1', digest('2'))));
      await moved('a put in a transaction');
      assert.equal(await store.deleteImage('docker.io/library/a:1'), true);
      await moved('a delete');
      await store.getImage('docker.io/library/b:1');
      await store.listImages();
      await store.imagesByTarget(digest('2'));
      assert.equal(store.generation, last, 'reads leave it');
    },
  },
  {
    name: 'concurrent writers all land; the last put of a name wins',
    async run(store) {
      await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          await tick();
          await store.transaction(async (tx) => {
            await tx.putImage(record(`docker.io/library/w${String(i).padStart(2, '0')}:1`, digest(`${i % 10}`)));
            await tick();
            await tx.putImage(record('docker.io/library/shared:1', digest(`${i % 10}`)));
          });
          await tick();
          await store.putImage(record(`docker.io/library/w${String(i).padStart(2, '0')}:2`, digest(`${i % 10}`)));
        }),
      );
      const all = names(await store.listImages());
      assert.equal(all.length, 41);
      assert.deepEqual(all, [...all].sort());
      assert.equal(all.filter((n) => n === 'docker.io/library/shared:1').length, 1);
    },
  },
  {
    name: 'two transactions whose steps interleave each commit whole, or the failing one leaves nothing',
    async run(store) {
      const first = deferred();
      const second = deferred();
      // A holds its transaction open across awaits while B starts: B's writes never land in A's.
      const a = store.transaction(async (tx) => {
        await tx.putImage(record('docker.io/library/a:1', digest('1')));
        first.resolve();
        await second.promise;
        await tx.putImage(record('docker.io/library/a:2', digest('1')));
        throw new Error('A fails');
      });
      await first.promise;
      const b = store.transaction(async (tx) => {
        await tx.putImage(record('docker.io/library/b:1', digest('2')));
        await tick();
        await tx.putImage(record('docker.io/library/b:2', digest('2')));
        return 'B';
      });
      const outside = store.putImage(record('docker.io/library/c:1', digest('3')));
      await tick();
      second.resolve();
      await assert.rejects(a, /A fails/);
      assert.equal(await b, 'B');
      await outside;
      assert.deepEqual(
        names(await store.listImages()),
        ['docker.io/library/b:1', 'docker.io/library/b:2', 'docker.io/library/c:1'],
        'B and the write outside commit whole; nothing of A is left',
      );
    },
  },
  {
    name: 'a transaction that throws halfway leaves nothing; one that returns keeps all',
    async run(store) {
      await store.putImage(record('docker.io/library/kept:1', digest('1')));
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.putImage(record('docker.io/library/half:1', digest('2')));
          await tick();
          await tx.deleteImage('docker.io/library/kept:1');
          await tick();
          throw new Error('halfway');
        }),
        /halfway/,
      );
      assert.deepEqual(names(await store.listImages()), ['docker.io/library/kept:1'], 'nothing of the failed transaction is left');
      assert.equal(await store.transaction(async (tx) => (await tx.putImage(record('docker.io/library/b:1', digest('2'))), 'done')), 'done');
      assert.deepEqual(names(await store.listImages()), ['docker.io/library/b:1', 'docker.io/library/kept:1']);
    },
  },
  {
    name: 'a read outside a transaction does not see its writes before it commits; its own reads do',
    async run(store) {
      await store.putImage(record('docker.io/library/kept:1', digest('1')));
      const written = deferred();
      const go = deferred();
      const tx = store.transaction(async (tx) => {
        await tx.putImage(record('docker.io/library/new:1', digest('2')));
        await tx.deleteImage('docker.io/library/kept:1');
        assert.deepEqual(names(await tx.listImages()), ['docker.io/library/new:1'], 'the transaction reads its own writes');
        written.resolve();
        await go.promise;
      });
      await written.promise;
      try {
        assert.deepEqual(names(await store.listImages()), ['docker.io/library/kept:1'], 'outside, the uncommitted writes are not seen');
        assert.equal(await store.getImage('docker.io/library/new:1'), undefined);
        assert.deepEqual(names(await store.imagesByTarget(digest('1'))), ['docker.io/library/kept:1']);
      } finally {
        // Ended either way, so that the store can close.
        go.resolve();
        await tx;
      }
      assert.deepEqual(names(await store.listImages()), ['docker.io/library/new:1'], 'once committed, they are');
    },
  },
  {
    name: 'generation moves once a transaction commits, never for one that fails',
    async run(store) {
      const before = store.generation;
      const written = deferred();
      const go = deferred();
      const committed = store.transaction(async (tx) => {
        await tx.putImage(record('docker.io/library/a:1', digest('1')));
        written.resolve();
        await go.promise;
      });
      await written.promise;
      const during = store.generation;
      go.resolve();
      await committed;
      assert.equal(during, before, 'not while the transaction is open');
      const after = store.generation;
      assert.ok(after > before, 'after the commit');
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.putImage(record('docker.io/library/b:1', digest('1')));
          throw new Error('fails');
        }),
        /fails/,
      );
      assert.equal(store.generation, after, 'a transaction rolled back leaves it');
    },
  },
  {
    name: 'a nested transaction joins the outer: the outer failing takes the inner with it',
    async run(store) {
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.transaction(async (inner) => inner.putImage(record('docker.io/library/inner:1', digest('1'))));
          await tx.putImage(record('docker.io/library/outer:1', digest('1')));
          throw new Error('outer fails');
        }),
        /outer fails/,
      );
      assert.deepEqual(await store.listImages(), [], 'the inner transaction went with the outer');
    },
  },
  {
    name: 'an inner transaction that fails and is caught undoes only its own writes',
    async run(store) {
      await store.transaction(async (tx) => {
        await tx.putImage(record('docker.io/library/outer:1', digest('1')));
        try {
          await tx.transaction(async (inner) => {
            await inner.putImage(record('docker.io/library/inner:1', digest('1')));
            await tick();
            throw new Error('inner fails');
          });
        } catch {
          // The caller goes on without the inner part.
        }
        await tx.putImage(record('docker.io/library/after:1', digest('1')));
      });
      assert.deepEqual(
        names(await store.listImages()),
        ['docker.io/library/after:1', 'docker.io/library/outer:1'],
        'the outer writes stay, the failed inner ones go',
      );
    },
  },
  {
    name: 'a removal that throws halfway removes nothing',
    async run(store) {
      await store.putImage(record('docker.io/library/a:1', digest('1')));
      await store.putImage(record('docker.io/library/b:1', digest('1')));
      await assert.rejects(
        store.removal(async (tx) => {
          await tx.deleteImage('docker.io/library/a:1');
          await tick();
          throw new Error('halfway');
        }),
        /halfway/,
      );
      assert.deepEqual(names(await store.listImages()), ['docker.io/library/a:1', 'docker.io/library/b:1'], 'nothing of the failed removal happened');
    },
  },
];

export function runImageRecordsConformance(name: string, factory: HarnessFactory<ImageRecordsUnderTest>): void {
  runConformance(`image records conformance: ${name}`, imageRecordsChecks, factory);
}

// ---------------------------------------------------------------------------------- layer facts

export const layerFactsChecks: Array<ConformanceCheck<LayerFactsStore>> = [
  {
    name: 'facts read back by digest; a put replaces; a delete forgets; the list is in digest order',
    async run(store) {
      assert.equal(await store.getLayerFacts(digest('1')), undefined);
      await store.deleteLayerFacts(digest('1'));
      await store.putLayerFacts({ digest: digest('2'), diffId: digest('d2'), unpackedSize: 20 });
      await store.putLayerFacts({ digest: digest('1'), diffId: digest('d1'), unpackedSize: 10 });
      await store.putLayerFacts({ digest: digest('1'), diffId: digest('d1'), unpackedSize: 11 });
      assert.deepEqual(await store.getLayerFacts(digest('1')), { digest: digest('1'), diffId: digest('d1'), unpackedSize: 11 });
      assert.deepEqual((await store.listLayerFacts()).map((f) => f.digest), [digest('1'), digest('2')]);
      await store.deleteLayerFacts(digest('1'));
      assert.equal(await store.getLayerFacts(digest('1')), undefined);
      assert.deepEqual(await store.listLayerFacts(), [{ digest: digest('2'), diffId: digest('d2'), unpackedSize: 20 }]);
    },
  },
  {
    name: 'sizes beyond 4 GiB are kept exactly',
    async run(store) {
      const facts = { digest: digest('3'), diffId: digest('d3'), unpackedSize: 5 * 1024 ** 3 + 1 };
      await store.putLayerFacts(facts);
      assert.deepEqual(await store.getLayerFacts(digest('3')), facts);
    },
  },
];

export function runLayerFactsConformance(name: string, factory: HarnessFactory<LayerFactsStore>): void {
  runConformance(`layer facts conformance: ${name}`, layerFactsChecks, factory);
}

// --------------------------------------------------------------------------------- blob sources

export const blobSourcesChecks: Array<ConformanceCheck<BlobSources>> = [
  {
    name: 'sources read back oldest first; one added again keeps its place; a delete forgets a blob\'s',
    async run(store) {
      const src = (d: string, registry: string, repository: string) => ({ digest: d, registry, repository });
      await store.addBlobSources([]);
      await store.addBlobSources([src(digest('1'), 'registry-1.docker.io', 'library/b'), src(digest('2'), 'r.example', 'x')]);
      await store.addBlobSources([src(digest('1'), '127.0.0.1:5000', 'a')]);
      await store.addBlobSources([src(digest('1'), 'registry-1.docker.io', 'library/b'), src(digest('1'), 'r.example', 'c')]);
      assert.deepEqual(await store.blobSources(digest('1')), [
        src(digest('1'), 'registry-1.docker.io', 'library/b'),
        src(digest('1'), '127.0.0.1:5000', 'a'),
        src(digest('1'), 'r.example', 'c'),
      ]);
      await store.deleteBlobSources(digest('1'));
      assert.deepEqual(await store.blobSources(digest('1')), []);
      assert.deepEqual(await store.blobSources(digest('2')), [src(digest('2'), 'r.example', 'x')]);
      assert.deepEqual(await store.blobSources(digest('9')), []);
    },
  },
];

export function runBlobSourcesConformance(name: string, factory: HarnessFactory<BlobSources>): void {
  runConformance(`blob sources conformance: ${name}`, blobSourcesChecks, factory);
}

// ---------------------------------------------------------------------------------- target facts

export type TargetFactsUnderTest = StoredTargetFacts & TransactionScope;

export const targetFactsChecks: Array<ConformanceCheck<TargetFactsUnderTest>> = [
  {
    name: 'facts are read by digest under their key only; a put replaces',
    async run(store) {
      assert.deepEqual(await store.getTargetFacts([], 'k1'), new Map());
      await store.transaction(async (tx) => {
        await tx.putTargetFacts(digest('1'), 'k1', '{"a":1}');
        await tx.putTargetFacts(digest('2'), 'k1', '{"a":2}');
        await tx.putTargetFacts(digest('3'), 'k2', '{"a":3}');
      });
      assert.deepEqual(await store.getTargetFacts([digest('1'), digest('3'), digest('4')], 'k1'), new Map([[digest('1'), '{"a":1}']]));
      await store.putTargetFacts(digest('1'), 'k2', '{"a":11}');
      assert.deepEqual(await store.getTargetFacts([digest('1')], 'k1'), new Map(), 'the new key replaced the old');
      assert.deepEqual(await store.getTargetFacts([digest('1'), digest('3')], 'k2'), new Map([[digest('1'), '{"a":11}'], [digest('3'), '{"a":3}']]));
    },
  },
  {
    name: 'clearTargetFacts drops them all and moves factsEpoch',
    async run(store) {
      await store.putTargetFacts(digest('1'), 'k', '{}');
      const epoch = store.factsEpoch;
      await store.clearTargetFacts();
      assert.ok(store.factsEpoch > epoch);
      assert.deepEqual(await store.getTargetFacts([digest('1')], 'k'), new Map());
    },
  },
];

export function runTargetFactsConformance(name: string, factory: HarnessFactory<TargetFactsUnderTest>): void {
  runConformance(`target facts conformance: ${name}`, targetFactsChecks, factory);
}
