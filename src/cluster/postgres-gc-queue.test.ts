// GC's review queue on a real PostgreSQL and the blob tier on a real docker-registry (issue 14 item
// 4): a blob a write on replica A has uploaded but not yet named is never released by replica B's
// sweep, a claim whose replica dies with kill -9 is claimed again by another, and releases are
// announced to every replica for its cache.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { skipWithoutPostgres } from '../../test/support/postgres.js';
import type { ContentStore } from '../content/content-store.js';
import { overrideCommit } from '../content/testing/content-store-override.js';
import { registryTier, sharedRegistry, stopSharedRegistry, type RegistryTier } from '../content/testing/registry-content-harness.js';
import { digestOf } from '../oci/digest.js';
import { silentLogger } from '../util/logger.js';
import { ReleaseFeed } from './postgres-gc-queue.js';
import { gcReplicas, type GcReplicas } from './testing/gc-replicas.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** `content` whose next commit stops once the inner store has finished it (the blob uploaded), until released. */
function pausingAfterCommit(content: ContentStore): { store: ContentStore; reached: Promise<void>; release(): void } {
  const reached = deferred();
  const gate = deferred();
  let paused = false;
  const store = overrideCommit(content, async (commit, expected, beforePublish) => {
    const info = await commit(expected, beforePublish);
    if (!paused) {
      paused = true;
      reached.resolve();
      await gate.promise;
    }
    return info;
  });
  return { store, reached: reached.promise, release: gate.resolve };
}

describe('GC review queue on PostgreSQL', { skip: skipWithoutPostgres() }, () => {
  let replicas: GcReplicas;
  before(async () => {
    replicas = await gcReplicas();
  });
  after(async () => {
    await replicas?.close();
    await stopSharedRegistry();
  });

  async function tier(repository: string): Promise<RegistryTier> {
    const t = await registryTier((await sharedRegistry()).host, 1024 ** 3, repository);
    replicas.closeLater(() => t.close());
    return t;
  }

  it('a blob replica A has uploaded and not yet named is kept by replica B\'s sweep at that very moment; released, B takes it', async () => {
    const repository = `gcqueue/lease-before-upload-${process.pid}`;
    const [tierA, tierB] = [await tier(repository), await tier(repository)];
    const pausing = pausingAfterCommit(tierA.store);
    const [a, b] = [await replicas.replica('A', pausing.store), await replicas.replica('B', tierB.store)];
    const bytes = randomBytes(64 * 1024);
    const digest = digestOf(bytes);
    const held: string[] = [];
    const writing = a.gc.leasingStore(held).writeBytes(bytes);
    // A's upload is done and its commit has not returned: what B sees now is what a load on A
    // would name a moment later.
    await pausing.reached;
    assert.equal(await tierB.store.has(digest), true, 'uploaded to the shared repository');
    assert.deepEqual(await b.gc.collect([digest]), [], 'B\'s sweep keeps it: A leased it before the upload');
    assert.equal(await tierB.store.has(digest), true, 'still in the repository for A to name');
    pausing.release();
    assert.equal((await writing).digest, digest);
    a.leases.release(held);
    await a.leases.recorded();
    assert.deepEqual(await b.gc.collect([digest]), [digest], 'released and unnamed, B\'s sweep takes it');
    assert.equal(await tierB.store.has(digest), false, 'unlinked from the repository');
  });

  it('a claim whose replica is killed with kill -9 is claimed again by another replica, and its blob released', async () => {
    const digest = digestOf(`a candidate claimed by a replica about to die ${process.pid}`);
    const queueModule = fileURLToPath(new URL('./postgres-gc-queue.js', import.meta.url));
    const storeModule = fileURLToPath(new URL('../metadata/postgres/postgres-metadata-store.js', import.meta.url));
    const script = `const { PostgresGcQueue } = await import(${JSON.stringify(queueModule)});
      const { PostgresMetadataStore } = await import(${JSON.stringify(storeModule)});
      const metadata = await PostgresMetadataStore.open(${JSON.stringify(replicas.url)});
      const queue = new PostgresGcQueue(metadata, 60000);
      await queue.enqueue([${JSON.stringify(digest)}]);
      await queue.claim(10, [${JSON.stringify(digest)}], async () => {
        process.stdout.write('claimed\\n');
        await new Promise(() => {});
      });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = once(child, 'exit');
    await once(child.stdout, 'data');
    const content = (await tier(`gcqueue/kill-${process.pid}`)).store;
    const b = await replicas.replica('B', content);
    const seen: string[][] = [];
    const review = async (claimed: string[]) => {
      seen.push(claimed);
      return { released: claimed, postponed: [] };
    };
    assert.equal(await b.queue.claim(10, [digest], review), 0, 'claimed by the live replica: skipped, not waited for');
    child.kill('SIGKILL');
    await exited;
    let claimed = 0;
    for (let waited = 0; claimed === 0 && waited < 10_000; waited += 100) {
      claimed = await b.queue.claim(10, [digest], review);
      if (claimed === 0) await sleep(100);
    }
    assert.equal(claimed, 1, 'the dead replica\'s claim rolled back: B claims the candidate');
    assert.deepEqual(seen, [[digest]]);
    const sql = postgres(replicas.url, { max: 1, onnotice: () => {} });
    try {
      assert.equal((await sql`SELECT count(*)::int AS n FROM gc_review_queue WHERE digest = ${digest}`)[0]!.n, 0, 'the row went with B\'s review');
    } finally {
      await sql.end({ timeout: 1 });
    }
  });

  it('a release is announced to every replica once its review commits', async () => {
    const content = (await tier(`gcqueue/announce-${process.pid}`)).store;
    const a = await replicas.replica('A', content);
    const heard: string[] = [];
    const feed = new ReleaseFeed(replicas.url, await a.queue.channelName(), { released: (d) => heard.push(...d), unknown: () => {} }, silentLogger);
    await feed.start();
    replicas.closeLater(() => feed.close());
    const { digest } = await content.writeBytes(randomBytes(1024));
    assert.deepEqual(await a.gc.collect([digest]), [digest]);
    for (let waited = 0; !heard.includes(digest) && waited < 10_000; waited += 50) await sleep(50);
    assert.deepEqual(heard, [digest]);
  });
});
