// PostgreSQL stopped and started under a running store (issue 14, item 5): every call fails with a
// 503 while it is down, nothing is half-written, and the store recovers by itself when it is back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { skipWithoutPostgres, startPostgres, type PostgresCluster } from '../../../test/support/postgres.js';
import { statusOf } from '../../api/http-errors.js';
import { MetadataUnavailableError } from '../../errors.js';
import { digest, record } from '../testing/metadata-conformance.js';
import { PostgresMetadataStore } from './postgres-metadata-store.js';
import { eventually } from '../../../test/support/eventually.js';

const skip = skipWithoutPostgres();

describe('PostgresMetadataStore when the database goes away and comes back', { skip }, () => {
  // A cluster of this file's own: the shared one must not stop under other tests.
  let cluster: PostgresCluster;
  before(async () => {
    cluster = await startPostgres();
  });
  after(() => cluster?.remove());

  it('answers 503 with a clear message while it is down, loses nothing committed, and recovers by itself', async (t) => {
    const url = await cluster.createDatabase();
    const [a, b] = await Promise.all([PostgresMetadataStore.open(url), PostgresMetadataStore.open(url)]);
    try {
      await a.putImage(record('docker.io/library/kept:1', digest('1')));
      await cluster.stop();
      // Deaf to other replicas, B trusts no cache: every look at its generation finds it moved.
      const moves = (): boolean => {
        const g = b.generation;
        return b.generation > g;
      };
      await eventually(moves, 'B, deaf, moves its generation on every read');

      const down = await Promise.allSettled([
        a.getImage('docker.io/library/kept:1'),
        a.putImage(record('docker.io/library/lost:1', digest('2'))),
        a.transaction(async (tx) => tx.deleteImage('docker.io/library/kept:1')),
      ]);
      for (const r of down) {
        assert.equal(r.status, 'rejected');
        const err = (r as PromiseRejectedResult).reason as unknown;
        assert.ok(err instanceof MetadataUnavailableError, `a MetadataUnavailableError, not ${String(err)}`);
        assert.equal(statusOf(err), 503);
        if (r === down[0]) t.diagnostic(err.message);
        assert.match(err.message, /^metadata database unavailable: PostgreSQL at 127\.0\.0\.1:\d+\/lading_\d+_\d+: .+; try again once it is back$/);
      }

      await assert.rejects(PostgresMetadataStore.open(url), MetadataUnavailableError, 'a daemon starting meanwhile is told why');

      await cluster.start();
      // No restart of the store: the next calls connect again.
      await eventually(async () => (await a.getImage('docker.io/library/kept:1').catch(() => undefined)) !== undefined, 'A reads again');
      assert.deepEqual((await a.listImages()).map((r) => r.name), ['docker.io/library/kept:1'], 'committed kept, failed writes absent');
      // B listens again, its generation still until something changes; then A's changes reach it.
      await eventually(() => !moves(), 'B listens again');
      const gen = b.generation;
      await a.putImage(record('docker.io/library/after:1', digest('3')));
      await eventually(() => b.generation > gen, "B hears A's change after the restart");
      assert.equal((await b.getImage('docker.io/library/after:1'))?.target.digest, digest('3'));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
