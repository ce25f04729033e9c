/**
 * Conformance suites of the metadata roles, written once against the interfaces and run against
 * every implementation (sqlite-metadata-conformance.test.ts; PostgreSQL next). Every call is awaited, so
 * the suites hold as the roles become asynchronous. What is checked is what the callers rely on:
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
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

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
      let last = await store.generation;
      const moved = async (what: string): Promise<void> => {
        const now = await store.generation;
        assert.ok(now > last, `${what} moves the generation`);
        last = now;
      };
      await store.putImage(record('docker.io/library/a:1', digest('1')));
      await moved('a put');
      await store.putImage(record('docker.io/library/a:1', digest('2')));
      await moved('a put moving a name');
      await store.transaction(() => store.putImage(record('docker.io/library/b:1', digest('2'))));
      await moved('a put in a transaction');
      assert.equal(await store.deleteImage('docker.io/library/a:1'), true);
      await moved('a delete');
      await store.getImage('docker.io/library/b:1');
      await store.listImages();
      await store.imagesByTarget(digest('2'));
      assert.equal(await store.generation, last, 'reads leave it');
    },
  },
  {
    name: 'concurrent writers all land; the last put of a name wins',
    async run(store) {
      await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          await tick();
          await store.transaction(() => {
            store.putImage(record(`docker.io/library/w${String(i).padStart(2, '0')}:1`, digest(`${i % 10}`)));
            store.putImage(record('docker.io/library/shared:1', digest(`${i % 10}`)));
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
    name: 'a transaction that throws halfway leaves nothing; one that returns keeps all',
    async run(store) {
      await store.putImage(record('docker.io/library/kept:1', digest('1')));
      await assert.rejects(async () =>
        store.transaction(() => {
          store.putImage(record('docker.io/library/half:1', digest('2')));
          store.deleteImage('docker.io/library/kept:1');
          throw new Error('halfway');
        }),
      /halfway/);
      assert.deepEqual(names(await store.listImages()), ['docker.io/library/kept:1'], 'nothing of the failed transaction is left');
      assert.equal(await store.transaction(() => (store.putImage(record('docker.io/library/b:1', digest('2'))), 'done')), 'done');
      assert.deepEqual(names(await store.listImages()), ['docker.io/library/b:1', 'docker.io/library/kept:1']);
    },
  },
  {
    name: 'a nested transaction joins the outer: the outer failing takes the inner with it',
    async run(store) {
      await assert.rejects(async () =>
        store.transaction(() => {
          store.transaction(() => store.putImage(record('docker.io/library/inner:1', digest('1'))));
          store.putImage(record('docker.io/library/outer:1', digest('1')));
          throw new Error('outer fails');
        }),
      /outer fails/);
      assert.deepEqual(await store.listImages(), [], 'the inner transaction went with the outer');
    },
  },
  {
    name: 'an inner transaction that fails and is caught undoes only its own writes',
    async run(store) {
      await store.transaction(() => {
        store.putImage(record('docker.io/library/outer:1', digest('1')));
        try {
          store.transaction(() => {
            store.putImage(record('docker.io/library/inner:1', digest('1')));
            throw new Error('inner fails');
          });
        } catch {
          // The caller goes on without the inner part.
        }
      });
      assert.deepEqual(names(await store.listImages()), ['docker.io/library/outer:1'], 'the outer writes stay, the failed inner ones go');
    },
  },
  {
    name: 'a removal that throws halfway removes nothing',
    async run(store) {
      await store.putImage(record('docker.io/library/a:1', digest('1')));
      await store.putImage(record('docker.io/library/b:1', digest('1')));
      await assert.rejects(async () =>
        store.removal(() => {
          store.deleteImage('docker.io/library/a:1');
          throw new Error('halfway');
        }),
      /halfway/);
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
      await store.transaction(() => {
        store.putTargetFacts(digest('1'), 'k1', '{"a":1}');
        store.putTargetFacts(digest('2'), 'k1', '{"a":2}');
        store.putTargetFacts(digest('3'), 'k2', '{"a":3}');
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
      const epoch = await store.factsEpoch;
      await store.clearTargetFacts();
      assert.ok((await store.factsEpoch) > epoch);
      assert.deepEqual(await store.getTargetFacts([digest('1')], 'k'), new Map());
    },
  },
];

export function runTargetFactsConformance(name: string, factory: HarnessFactory<TargetFactsUnderTest>): void {
  runConformance(`target facts conformance: ${name}`, targetFactsChecks, factory);
}
