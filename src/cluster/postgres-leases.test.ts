// Leases shared by replicas on one PostgreSQL: a sweep on one replica keeps what a write in flight
// on another holds, and the leases of a replica killed with kill -9 lapse after the TTL.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { skipWithoutPostgres } from '../../test/support/postgres.js';
import { fsContentHarness } from '../content/testing/fs-content-harness.js';
import { digestOf } from '../oci/digest.js';
import { PostgresLeases } from './postgres-leases.js';
import { gcReplicas, type GcReplicas } from './testing/gc-replicas.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('PostgresLeases', { skip: skipWithoutPostgres() }, () => {
  let replicas: GcReplicas;
  before(async () => {
    replicas = await gcReplicas();
  });
  after(async () => {
    await replicas?.close();
  });

  it('a sweep on replica B keeps a blob that a write in flight on replica A holds; released, it goes', async () => {
    const harness = await fsContentHarness();
    replicas.closeLater(async () => harness.close());
    const content = harness.store.content; // One tier under both replicas.
    const [a, b] = [await replicas.replica('A', content), await replicas.replica('B', content)];
    const held: string[] = [];
    const { digest } = await a.gc.leasingStore(held).writeBytes(Buffer.from('a layer of a load in flight on A'));
    assert.deepEqual(await b.gc.collect([digest]), [], 'B\'s sweep leaves it');
    assert.ok(await content.has(digest));
    a.leases.release(held);
    await a.leases.recorded();
    assert.deepEqual(await b.gc.collect([digest]), [digest], 'released and unnamed, B\'s sweep takes it');
    assert.equal(await content.has(digest), false);
  });

  it('the leases of a replica killed with kill -9 lapse after the TTL, not before, and the heartbeat queues their blobs for review', async () => {
    const digest = digestOf('held by a replica about to die');
    const module = fileURLToPath(new URL('./postgres-leases.js', import.meta.url));
    const script = `const { PostgresLeases } = await import(${JSON.stringify(module)});
      const leases = new PostgresLeases(${JSON.stringify(replicas.url)}, { owner: 'doomed', ttlMs: 1000 });
      await leases.hold(${JSON.stringify(digest)});
      process.stdout.write('held\\n');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = once(child, 'exit');
    await once(child.stdout, 'data');
    const observer = new PostgresLeases(replicas.url, { owner: 'observer', ttlMs: 30_000 });
    replicas.closeLater(() => observer.close());
    // Alive for three TTLs: its heartbeat keeps the lease.
    await sleep(3000);
    assert.equal(await observer.isHeld(digest), true, 'renewed while its replica lives');
    child.kill('SIGKILL');
    await exited;
    assert.equal(await observer.isHeld(digest), true, 'still held right after the kill');
    let lapsedAfter = 0;
    while (await observer.isHeld(digest)) {
      assert.ok(lapsedAfter < 10_000, 'lapsed within the TTL and a generous margin');
      await sleep(100);
      lapsedAfter += 100;
    }
    // Any live replica's heartbeat deletes the lapsed lease and queues its blob in one statement.
    await observer.renew();
    const sql = postgres(replicas.url, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql`SELECT review_after <= now() AS due FROM gc_review_queue WHERE digest = ${digest}`;
      assert.deepEqual(rows.map((r) => r.due), [true], 'queued for review, due now');
      assert.equal((await sql`SELECT count(*)::int AS n FROM leases WHERE digest = ${digest}`)[0]!.n, 0, 'the lapsed lease is gone');
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});
