/**
 * Conformance of the list's rows (target-pages.ts), run against SQLite and PostgreSQL: what the
 * explorer's paged list (images/image-pages.ts) relies on. A page holds only targets a record
 * names, in the list's order (newest first, then by digest), its total of the same moment; a row is
 * written with its facts, in their transaction, and goes with them.
 */
import assert from 'node:assert/strict';
import { runConformance, type ConformanceCheck, type HarnessFactory } from '../../util/conformance.js';
import type { BlobGraph } from '../blob-graph.js';
import type { ImageRecords } from '../image-records.js';
import type { TransactionScope } from '../metadata-transaction.js';
import type { StoredTargetFacts } from '../target-facts.js';
import type { TargetPages } from '../target-pages.js';
import { digest, record } from './metadata-conformance.js';

export type TargetPagesUnderTest = TargetPages & StoredTargetFacts & ImageRecords & BlobGraph & TransactionScope;

const K = 'k';
const row = (created: number, d: string) => ({ created, json: `{"of":"${d}"}` });

/** Five named targets: 1 and 4 made at 200 (1 sorts first), 2 at 300, 3 at 100, 5 dangling at 250; 6 has a row and no record. */
async function fill(store: TargetPagesUnderTest): Promise<void> {
  await store.transaction(async (tx) => {
    for (const [hex, created] of [['1', 200], ['2', 300], ['3', 100], ['4', 200], ['5', 250], ['6', 400]] as const) {
      await tx.putTargetFacts(digest(hex), K, '{}', row(created, digest(hex)));
    }
    await tx.putImage(record('docker.io/library/one:1', digest('1')));
    await tx.putImage(record('docker.io/library/One:2', digest('1')));
    await tx.putImage(record('docker.io/library/two:1', digest('2')));
    await tx.putImage(record('localhost:5000/three:1', digest('3')));
    await tx.putImage(record('docker.io/me/four:1', digest('4')));
    await tx.putImage(record(`moby-dangling@${digest('5')}`, digest('5')));
  });
}

export const targetPagesChecks: Array<ConformanceCheck<TargetPagesUnderTest>> = [
  {
    name: 'a page holds named targets with a row, newest first then by digest, with the total',
    async run(store) {
      await fill(store);
      const all = [digest('2'), digest('5'), digest('1'), digest('4'), digest('3')];
      assert.deepEqual(await store.pageTargets({ key: K, offset: 0, limit: 50 }), { total: 5, digests: all });
      assert.deepEqual(await store.pageTargets({ key: K, offset: 1, limit: 2 }), { total: 5, digests: all.slice(1, 3) });
      assert.deepEqual(await store.pageTargets({ key: K, offset: 3, limit: 5 }), { total: 5, digests: all.slice(3) });
      assert.deepEqual(await store.pageTargets({ key: K, offset: 9, limit: 2 }), { total: 5, digests: [] });
      assert.deepEqual(await store.pageTargets({ key: K, offset: 1, limit: 2, count: false }), { total: -1, digests: all.slice(1, 3) }, 'uncounted');
      assert.deepEqual(await store.pageTargets({ key: 'other', offset: 0, limit: 50 }), { total: 0, digests: [] }, 'rows of another key are not listed');
    },
  },
  {
    name: 'dangling pages hold the targets a dangling record names; the others, those named otherwise',
    async run(store) {
      await fill(store);
      assert.deepEqual(await store.pageTargets({ key: K, dangling: true, offset: 0, limit: 50 }), { total: 1, digests: [digest('5')] });
      assert.deepEqual(await store.pageTargets({ key: K, dangling: false, offset: 0, limit: 2 }), { total: 4, digests: [digest('2'), digest('1')] });
    },
  },
  {
    name: 'targets named without a row are told apart; facts put without a row give none',
    async run(store) {
      await fill(store);
      await store.putImage(record('docker.io/library/seven:1', digest('7')));
      await store.putImage(record('docker.io/library/eight:1', digest('8')));
      await store.putTargetFacts(digest('8'), K, '{}');
      assert.deepEqual((await store.targetsWithoutRows(K)).sort(), [digest('7'), digest('8')]);
      assert.equal((await store.targetsWithoutRows('other')).length, 7);
      assert.deepEqual(await store.getTargetRows([digest('1'), digest('6'), digest('8'), digest('9')], K), new Map([
        [digest('1'), `{"of":"${digest('1')}"}`],
        [digest('6'), `{"of":"${digest('6')}"}`],
      ]));
      assert.deepEqual(await store.getTargetRows([digest('1')], 'other'), new Map());
      assert.equal((await store.pageTargets({ key: K, offset: 0, limit: 50 })).total, 5);
    },
  },
  {
    name: 'a record put or deleted moves the page at once; a row replaced takes its new place',
    async run(store) {
      await fill(store);
      await store.deleteImage('localhost:5000/three:1');
      await store.putImage(record('docker.io/library/six:1', digest('6')));
      await store.putTargetFacts(digest('2'), K, '{}', row(50, digest('2')));
      const page = await store.pageTargets({ key: K, offset: 0, limit: 50 });
      assert.deepEqual(page, { total: 5, digests: [digest('6'), digest('5'), digest('1'), digest('4'), digest('2')] });
    },
  },
  {
    name: 'a row is written with its facts: a transaction that throws leaves neither; a read outside sees it at commit',
    async run(store) {
      await store.putImage(record('docker.io/library/one:1', digest('1')));
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.putTargetFacts(digest('1'), K, '{}', row(1, digest('1')));
          assert.equal((await tx.pageTargets({ key: K, offset: 0, limit: 5 })).total, 1, 'the transaction sees its own row');
          assert.equal((await store.pageTargets({ key: K, offset: 0, limit: 5 })).total, 0, 'a read outside does not, before the commit');
          throw new Error('halfway');
        }),
        /halfway/,
      );
      assert.equal((await store.pageTargets({ key: K, offset: 0, limit: 5 })).total, 0);
      assert.deepEqual(await store.getTargetFacts([digest('1')], K), new Map());
    },
  },
  {
    name: 'rows go with their facts: clearTargetFacts and a forgotten blob under the target drop them',
    async run(store) {
      await fill(store);
      await store.forgetBlob(digest('2'));
      assert.deepEqual((await store.pageTargets({ key: K, offset: 0, limit: 1 })).digests, [digest('5')]);
      assert.deepEqual(await store.targetsWithoutRows(K), [digest('2')]);
      await store.clearTargetFacts();
      assert.deepEqual(await store.pageTargets({ key: K, offset: 0, limit: 5 }), { total: 0, digests: [] });
      assert.equal((await store.targetsWithoutRows(K)).length, 5);
    },
  },
  {
    name: "every record's name with its target, by target then name; a target with a row and no record has none",
    async run(store) {
      await fill(store);
      assert.deepEqual(await store.targetNames(), [
        { name: 'docker.io/library/One:2', digest: digest('1') },
        { name: 'docker.io/library/one:1', digest: digest('1') },
        { name: 'docker.io/library/two:1', digest: digest('2') },
        { name: 'localhost:5000/three:1', digest: digest('3') },
        { name: 'docker.io/me/four:1', digest: digest('4') },
        { name: `moby-dangling@${digest('5')}`, digest: digest('5') },
      ]);
    },
  },
];

export function runTargetPagesConformance(name: string, factory: HarnessFactory<TargetPagesUnderTest>): void {
  runConformance(`target pages conformance: ${name}`, targetPagesChecks, factory);
}
