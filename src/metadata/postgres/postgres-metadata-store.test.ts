// The PostgreSQL store against the async contract (transactions with tx, savepoints, counters that
// move after commit) and what only a shared database has: other replicas' changes, migrations raced
// by two daemons. The shared conformance suites run on it in postgres-metadata-conformance.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import postgres from 'postgres';
import { skipWithoutPostgres } from '../../../test/support/postgres.js';
import { digest, record } from '../testing/metadata-conformance.js';
import { freshPostgresSchema, postgresHarness } from '../testing/postgres-harness.js';
import { PostgresMetadataStore } from './postgres-metadata-store.js';
import { MIGRATIONS, SCHEMA_VERSION } from './postgres-schema.js';
import { eventually } from '../../../test/support/eventually.js';

const skip = skipWithoutPostgres();
const names = (records: ReadonlyArray<{ name: string }>): string[] => records.map((r) => r.name);

async function withStore(fn: (store: PostgresMetadataStore) => Promise<void>): Promise<void> {
  const h = await postgresHarness();
  try {
    await fn(h.store);
  } finally {
    await h.close();
  }
}

describe('PostgresMetadataStore: transactions', { skip }, () => {
  it('a transaction commits every write through tx, or none; the counters move only after the commit', () =>
    withStore(async (store) => {
      const before = store.generation;
      const epoch = store.factsEpoch;
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.putImage(record('docker.io/library/a:1', digest('1')));
          await tx.putBlobEdges([{ parent: digest('1'), child: digest('2') }]);
          await tx.putLayerFacts({ digest: digest('2'), diffId: digest('d2'), unpackedSize: 1 });
          await tx.addBlobSources([{ digest: digest('2'), registry: 'r.example', repository: 'x' }]);
          assert.equal(store.generation, before, 'not before the commit');
          throw new Error('halfway');
        }),
        /halfway/,
      );
      assert.deepEqual(await store.listImages(), []);
      assert.deepEqual(await store.listBlobEdges(), []);
      assert.deepEqual(await store.listLayerFacts(), []);
      assert.deepEqual(await store.blobSources(digest('2')), []);
      assert.equal(store.generation, before, 'a rolled-back transaction leaves the generation');

      const result = await store.transaction(async (tx) => {
        await tx.putImage(record('docker.io/library/a:1', digest('1')));
        await tx.forgetBlob(digest('1'));
        assert.equal(store.generation, before);
        assert.equal(store.factsEpoch, epoch);
        return 'done';
      });
      assert.equal(result, 'done');
      assert.ok(store.generation > before, 'moved by the commit');
      assert.ok(store.factsEpoch > epoch, 'forgetBlob moved factsEpoch at the commit');
    }));

  it('a nested transaction is a savepoint: a failed inner part undoes only its writes; the outer failing takes all', () =>
    withStore(async (store) => {
      await store.transaction(async (tx) => {
        await tx.putImage(record('docker.io/library/outer:1', digest('1')));
        await assert.rejects(
          tx.transaction(async (inner) => {
            await inner.putImage(record('docker.io/library/inner:1', digest('1')));
            throw new Error('inner fails');
          }),
          /inner fails/,
        );
        await tx.transaction(async (inner) => inner.putImage(record('docker.io/library/inner:2', digest('1'))));
      });
      assert.deepEqual(names(await store.listImages()), ['docker.io/library/inner:2', 'docker.io/library/outer:1']);
      await assert.rejects(
        store.removal(async (tx) => {
          await tx.transaction((inner) => inner.deleteImage('docker.io/library/inner:2'));
          await tx.deleteImage('docker.io/library/outer:1');
          throw new Error('outer fails');
        }),
        /outer fails/,
      );
      assert.deepEqual(names(await store.listImages()), ['docker.io/library/inner:2', 'docker.io/library/outer:1']);
    }));

  it('a write outside an open transaction commits on its own; reads outside never see the open one', () =>
    withStore(async (store) => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let written!: () => void;
      const inTx = new Promise<void>((r) => (written = r));
      const open = store.transaction(async (tx) => {
        await tx.putImage(record('docker.io/library/uncommitted:1', digest('1')));
        assert.ok(await tx.getImage('docker.io/library/uncommitted:1'), 'the transaction reads its own write');
        written();
        await gate;
        throw new Error('rolled back');
      });
      await inTx;
      await store.putImage(record('docker.io/library/outside:1', digest('2')));
      assert.equal(await store.getImage('docker.io/library/uncommitted:1'), undefined, 'uncommitted: unseen outside');
      release();
      await assert.rejects(open, /rolled back/);
      assert.deepEqual(names(await store.listImages()), ['docker.io/library/outside:1'], 'the outside write stayed; the rollback took only its own');
    }));

  it('a tx kept past its function is refused, not run outside the transaction', () =>
    withStore(async (store) => {
      const kept = await store.transaction(async (tx) => tx);
      await assert.rejects(kept.putImage(record('docker.io/library/late:1', digest('1'))), /a metadata transaction was used after it ended/);
      await assert.rejects(kept.getImage('docker.io/library/late:1'), /used after it ended/);
      assert.deepEqual(await store.listImages(), []);
    }));

  it('concurrent transactions writing shared rows all land', () =>
    withStore(async (store) => {
      await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          store.transaction(async (tx) => {
            // Shared edges and a shared name, in different orders per writer: row locks cross.
            const edges = [{ parent: digest('a'), child: digest('b') }, { parent: digest('c'), child: digest(`${i % 10}`) }];
            await tx.putBlobEdges(i % 2 ? edges : edges.reverse());
            await tx.putImage(record('docker.io/library/shared:1', digest(`${i % 10}`)));
            await tx.putImage(record(`docker.io/library/w${String(i).padStart(2, '0')}:1`, digest('a')));
          }),
        ),
      );
      assert.equal((await store.listImages()).length, 17);
      assert.equal((await store.blobParents(digest('b'))).length, 1);
    }));

  it('two transactions that deadlock both land: the one PostgreSQL aborts runs again', () =>
    withStore(async (store) => {
      const [A, B] = ['docker.io/library/a:1', 'docker.io/library/b:1'];
      let firstWrites = 0;
      let bothWrote!: () => void;
      const barrier = new Promise<void>((r) => (bothWrote = r));
      let runs = 0;
      // Each locks one row, waits for the other to lock its own, then wants the other's: a cycle.
      const crossing = (first: string, second: string, d: string) =>
        store.transaction(async (tx) => {
          runs++;
          await tx.putImage(record(first, digest(d)));
          if (++firstWrites === 2) bothWrote();
          await barrier;
          await tx.putImage(record(second, digest(d)));
        });
      await Promise.all([crossing(A, B, '1'), crossing(B, A, '2')]);
      assert.equal(runs, 3, 'one of them ran twice');
      assert.deepEqual(names(await store.listImages()), [A, B]);
      const targets = new Set((await store.listImages()).map((r) => r.target.digest));
      assert.equal(targets.size, 1, 'the retried one wrote both, last');
    }));
});

describe('PostgresMetadataStore: a session the server ends', { skip }, () => {
  it('the calls after it run on a fresh connection: a read, a write, a transaction', async () => {
    const url = await freshPostgresSchema();
    const store = await PostgresMetadataStore.open(url, { maxConnections: 1 });
    const admin = postgres(url, { max: 2, onnotice: () => {} });
    try {
      // The one connection waits in a read on a table locked elsewhere when pg_terminate_backend
      // ends its session (57P01, as pg_ctl stop does).
      let locked!: () => void;
      let unlock!: () => void;
      const isLocked = new Promise<void>((r) => (locked = r));
      const unlocked = new Promise<void>((r) => (unlock = r));
      const locking = admin.begin(async (tx) => {
        await tx`LOCK TABLE images IN ACCESS EXCLUSIVE MODE`;
        locked();
        await unlocked;
      });
      await isLocked;
      const waiting = store.getImage('docker.io/library/none:1');
      await eventually(async () => {
        const [row] = await admin<Array<{ n: number }>>`SELECT count(pg_terminate_backend(pid))::int AS n
          FROM pg_stat_activity WHERE application_name = 'ladingd' AND wait_event_type = 'Lock'`;
        return row?.n === 1;
      }, 'the waiting session ended');
      await assert.rejects(waiting, /metadata database unavailable/);
      unlock();
      await locking;
      // The client hands the ended session's 57P01 to the next query on that connection: retried, not answered.
      assert.equal(await store.getImage('docker.io/library/none:1'), undefined);
      await store.putImage(record('docker.io/library/after:1', digest('1')));
      await store.transaction((tx) => tx.putImage(record('docker.io/library/after:2', digest('1'))));
      assert.deepEqual(names(await store.listImages()), ['docker.io/library/after:1', 'docker.io/library/after:2']);
    } finally {
      await admin.end({ timeout: 1 });
      await store.close();
    }
  });
});

describe('PostgresMetadataStore: records and the graph', { skip }, () => {
  it('names in byte order, prefix ranges exact, sizes past 4 GiB, sources in order of first sight', () =>
    withStore(async (store) => {
      const mixed = ['docker.io/library/zzz:1', 'moby-dangling@sha256:' + 'a'.repeat(64), 'docker.io/library/alpine:latest', 'localhost:5000/alpine:1', 'docker.io/library/Alpine:1', 'docker.io/library/alpine_x:1'];
      for (const [i, name] of mixed.entries()) await store.putImage(record(name, digest(`${i}`)));
      const bytes = [...mixed].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      assert.deepEqual(names(await store.listImages()), bytes);
      assert.deepEqual(names(await store.imagesWithPrefix('docker.io/library/alpine')), ['docker.io/library/alpine:latest', 'docker.io/library/alpine_x:1']);
      assert.deepEqual(names(await store.imagesWithPrefix('')), bytes);
      const big = { digest: digest('9'), diffId: digest('d9'), unpackedSize: 5 * 1024 ** 3 + 1 };
      await store.putLayerFacts(big);
      assert.deepEqual(await store.getLayerFacts(digest('9')), big);
      const src = (registry: string) => ({ digest: digest('9'), registry, repository: 'r' });
      await store.addBlobSources([src('b'), src('a'), src('b')]);
      await store.addBlobSources([src('c'), src('a')]);
      assert.deepEqual((await store.blobSources(digest('9'))).map((s) => s.registry), ['b', 'a', 'c']);
    }));

  it('reachability through the graph as recursive queries, never up through a detached manifest', () =>
    withStore(async (store) => {
      const [I, M1, M2, L1, L2, L0] = ['1', '2', '3', '4', '5', '6'].map(digest) as [string, string, string, string, string, string];
      await store.transaction(async (tx) => {
        await tx.putBlobEdges([{ parent: I, child: M1 }, { parent: I, child: M2 }, { parent: M1, child: L1 }, { parent: M2, child: L2 }, { parent: M1, child: L0 }, { parent: M2, child: L0 }]);
        await tx.putImage(record('docker.io/library/a:1', I));
      });
      assert.equal(await store.isBlobReachable(L2), true);
      assert.equal(await store.isBlobReachable(L2, new Set([M2])), false);
      assert.equal(await store.isBlobReachable(L0, new Set([M2])), true, 'through M1');
      assert.deepEqual([...(await store.reachableBlobs(new Set([M2])))].sort(), [I, M1, L1, L0].sort());
      assert.deepEqual((await store.blobAncestors(L0)).sort(), [L0, M1, M2, I].sort());
      await store.putTargetFacts(I, 'k', '{}');
      await store.putTargetFacts(L2, 'k', '{}');
      await store.forgetBlob(M1);
      assert.deepEqual([...(await store.getTargetFacts([I, L2], 'k')).keys()], [L2], 'the facts of what reaches M1 went');
      assert.equal(await store.isBlobReachable(L1), false);
    }));
});

describe('PostgresMetadataStore: migration 4, the list rows', { skip }, () => {
  it("a database of version 2 gets each stored target's row and created from its facts", async () => {
    const url = await freshPostgresSchema();
    const store = await PostgresMetadataStore.open(url);
    for (const hex of ['1', '2']) await store.putImage(record(`docker.io/library/x:${hex}`, digest(hex)));
    await store.close();
    // The facts as image-list.ts stores them; the row is them without blobs, chains and complete.
    const shown = { manifests: [{ kind: 'image' }], size: 7, best: { created: 1700000000, labels: { a: 'b' } }, created: '1700000000123456789', configLabels: [{ a: 'b' }] };
    const { best: _, ...undated } = shown;
    const facts = (f: object) => JSON.stringify({ complete: true, ...f, chains: [{ chainId: digest('c') }], blobs: [[digest('b'), 3]] });
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      // What a ladingd of version 2 left: no columns, version 4 not applied.
      await sql`ALTER TABLE target_facts DROP COLUMN created, DROP COLUMN row`;
      await sql`DELETE FROM schema_migrations WHERE version = 4`;
      await sql`INSERT INTO target_facts (digest, key, facts) VALUES (${digest('2')}, 'k', ${facts(shown)}), (${digest('1')}, 'k', ${facts(undated)})`;
    } finally {
      await sql.end();
    }
    const upgraded = await PostgresMetadataStore.open(url);
    try {
      assert.deepEqual(await upgraded.pageTargets({ key: 'k', offset: 0, limit: 5 }), { total: 2, digests: [digest('2'), digest('1')] }, 'created 0 without best: last');
      const rows = await upgraded.getTargetRows([digest('1'), digest('2')], 'k');
      assert.deepEqual(JSON.parse(rows.get(digest('2')) ?? ''), shown);
      assert.deepEqual(JSON.parse(rows.get(digest('1')) ?? ''), undated);
    } finally {
      await upgraded.close();
    }
  });
});

describe('PostgresMetadataStore: replicas on one database', { skip }, () => {
  it("one store's commits move the other's generation and factsEpoch; its own never count twice", async () => {
    const url = await freshPostgresSchema();
    const [a, b] = await Promise.all([PostgresMetadataStore.open(url), PostgresMetadataStore.open(url)]);
    try {
      const gen = b.generation;
      await a.putImage(record('docker.io/library/a:1', digest('1')));
      await eventually(() => b.generation > gen, "A's put moves B's generation");
      await a.putTargetFacts(digest('1'), 'k', '{}');
      const epoch = b.factsEpoch;
      await a.forgetBlob(digest('1'));
      await eventually(() => b.factsEpoch > epoch, "A's forgetBlob moves B's factsEpoch");
      const rolledBack = b.generation;
      await assert.rejects(a.transaction(async (tx) => { await tx.putImage(record('docker.io/library/x:1', digest('1'))); throw new Error('no'); }));
      await a.putLayerFacts({ digest: digest('2'), diffId: digest('d'), unpackedSize: 1 });
      // A marker after the rolled-back one: once B hears it, it would have heard the other.
      const marker = b.generation;
      await a.deleteImage('docker.io/library/a:1');
      await eventually(() => b.generation > marker, 'the marker');
      assert.equal(marker, rolledBack, 'a rolled-back change and layer facts announce nothing');
      const own = b.generation;
      await b.putImage(record('docker.io/library/b:1', digest('3')));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(b.generation, own + 1, 'its own change counted once, at its commit');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('two daemons migrating one new database at once apply each migration once', async () => {
    const url = await freshPostgresSchema();
    const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresMetadataStore.open(url)));
    await Promise.all(stores.map((s) => s.close()));
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql<Array<{ version: number }>>`SELECT version FROM schema_migrations ORDER BY version`;
      assert.deepEqual(rows.map((r) => r.version), MIGRATIONS.map((m) => m.version));
      await sql`INSERT INTO schema_migrations (version, description) VALUES (${SCHEMA_VERSION + 1}, 'from a newer ladingd')`;
      await assert.rejects(PostgresMetadataStore.open(url), new RegExp(`metadata schema ${SCHEMA_VERSION + 1} .* is newer than this ladingd's \\(${SCHEMA_VERSION}\\)`));
    } finally {
      await sql.end();
    }
  });
});
