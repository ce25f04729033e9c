// Online garbage collection across replicas (issue 14 item 4): the orphans of a replica killed with
// kill -9 mid-load are collected by the others' background sweep once its leases lapse, with no
// rmi or prune; and what one replica releases leaves every replica's blob cache.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import { holderTag } from '../../src/content/holder-manifest.js';
import { BLOB_REPOSITORY, startCluster, type Cluster } from '../support/cluster.js';
import type { Daemon } from '../support/daemon.js';
import { hex, noCreatedImage, ociArchive, singlePlatformImage, type ImageFixture } from '../support/images.js';
import { tempDir } from '../support/paths.js';
import { sharedPostgres, skipWithoutPostgres } from '../support/postgres.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const LEASE_TTL_MS = 2000;

function ok(res: { code: number | null; stdout: string; stderr: string }, what: string, d: Daemon): string {
  assert.equal(res.code, 0, `${what}: ${res.stderr}\n${d.logs()}`);
  return res.stdout;
}

async function eventually(what: string, check: () => Promise<string | undefined>, timeoutMs: number): Promise<void> {
  let failing = await check();
  for (let waited = 0; failing !== undefined && waited < timeoutMs; waited += 200) {
    await sleep(200);
    failing = await check();
  }
  assert.equal(failing, undefined, what);
}

describe('garbage collection across replicas', { skip: skipWithoutPostgres() }, () => {
  let cluster: Cluster;
  let sql: postgres.Sql;
  let fx: ImageFixture, other: ImageFixture;

  before(async () => {
    const url = await (await sharedPostgres()).createDatabase();
    [cluster, fx, other] = await Promise.all([
      // --gc-interval left to its default: half the lease TTL, at least 1 s.
      startCluster(3, { databaseUrl: url, extraArgs: ['--lease-ttl', `${LEASE_TTL_MS}ms`] }),
      singlePlatformImage(),
      noCreatedImage(),
    ]);
    sql = postgres(url, { max: 1, onnotice: () => {} });
  });
  after(async () => {
    await sql?.end({ timeout: 1 });
    await cluster?.stop();
  });

  const inRegistry = async (digest: string): Promise<boolean> => {
    const res = await cluster.registry.request(`/v2/${BLOB_REPOSITORY}/blobs/${digest}`, { method: 'HEAD' });
    if (res.status !== 200 && res.status !== 404) throw new Error(`HEAD ${digest}: ${res.status}`);
    return res.status === 200;
  };
  const holderTags = async (): Promise<string[]> => {
    const res = await cluster.registry.request(`/v2/${BLOB_REPOSITORY}/tags/list`);
    return res.status === 200 ? ((JSON.parse(res.text) as { tags?: string[] | null }).tags ?? []) : [];
  };

  it('a replica killed with kill -9 mid-load: once its leases lapse, the others collect what it uploaded, with no rmi or prune', async () => {
    const [a, b] = cluster.replicas as [Daemon, Daemon];
    const body = readFileSync(await ociArchive(other));
    // All of the archive but its end-of-archive blocks: the load is in flight when its replica dies.
    const req = http.request({ socketPath: a.socket, path: '/v1.51/images/load?quiet=1', method: 'POST', headers: { 'Content-Type': 'application/x-tar' } });
    req.on('error', () => undefined);
    req.write(body.subarray(0, body.length - 1024));
    // Every blob of the archive uploaded and leased: nothing else is in this cluster yet.
    const leased = async (): Promise<string[]> => (await sql`SELECT DISTINCT digest FROM leases ORDER BY digest`).map((r) => r.digest as string);
    let orphans: string[] = [];
    for (let waited = 0; waited < 20_000; waited += 100) {
      orphans = await leased();
      // Leased before uploaded: the registry may answer a HEAD of a blob mid-upload with a 500; wait on.
      if (orphans.length > 0 && (await Promise.all(orphans.map((d) => inRegistry(d).catch(() => false)))).every(Boolean)) break;
      await sleep(100);
    }
    assert.ok(orphans.length >= 2, `the load in flight leased what it uploaded: ${orphans.join(', ')}`);
    await a.kill();
    for (const digest of orphans) assert.equal(await inRegistry(digest), true, `${digest} uploaded by the killed load`);
    // No user action from here on: the heartbeat of B or C queues the lapsed leases' blobs, and
    // their background sweep releases them.
    await eventually(
      'the orphans are gone from the registry, the leases and the queue',
      async () => {
        for (const digest of orphans) if (await inRegistry(digest)) return `${digest} still in the registry`;
        const rows = await sql`SELECT (SELECT count(*)::int FROM leases WHERE digest = ANY(${orphans})) AS leases,
          (SELECT count(*)::int FROM gc_review_queue WHERE digest = ANY(${orphans})) AS queued`;
        if (rows[0]!.leases !== 0 || rows[0]!.queued !== 0) return `leases ${rows[0]!.leases}, queued ${rows[0]!.queued}`;
        return undefined;
      },
      LEASE_TTL_MS + 20_000,
    );
    const records = await sql`SELECT (SELECT count(*)::int FROM layers WHERE digest = ANY(${orphans}))
        + (SELECT count(*)::int FROM blob_sources WHERE digest = ANY(${orphans}))
        + (SELECT count(*)::int FROM blob_edges WHERE parent = ANY(${orphans}) OR child = ANY(${orphans})) AS n`;
    assert.equal(records[0]!.n, 0, 'no record of them in the metadata');
    const tags = await holderTags();
    for (const digest of orphans) assert.ok(!tags.includes(holderTag(digest)), `no holder of ${digest} left in the registry`);
    // The same load through B completes: it uploads again what the sweep let go.
    ok(await b.docker(['load', '-i', await ociArchive(other)]), 'load on B', b);
    ok(await b.docker(['save', '-o', path.join(await tempDir('cluster-gc-'), 'o.tar'), other.familiar]), 'save on B', b);
  });

  it('a blob released by one replica leaves the other replicas\' caches', async () => {
    const [b, c] = cluster.replicas.slice(1) as [Daemon, Daemon];
    ok(await b.docker(['load', '-i', await ociArchive(fx)]), 'load on B', b);
    ok(await c.docker(['save', '-o', path.join(await tempDir('cluster-gc-'), 'fx.tar'), fx.familiar]), 'save on C fills its cache', c);
    const blobs = [fx.target.digest, ...fx.images.flatMap((i) => [i.config.digest, ...i.layers.map((l) => l.digest)])];
    const cached = (digest: string): boolean => existsSync(path.join(c.dataRoot, 'blob-cache', 'blobs', hex(digest)));
    for (const digest of blobs) assert.ok(cached(digest), `${digest} in C's cache`);
    assert.ok((await holderTags()).includes(holderTag(fx.target.digest)), 'fx held in the registry');
    ok(await b.docker(['rmi', fx.familiar]), 'rmi on B', b);
    assert.ok(!(await holderTags()).includes(holderTag(fx.target.digest)), 'fx\'s holder deleted');
    // B releases them at once, or, those C's save still leased (its release is written as its
    // stream closes, maybe after the rmi's review), at the next review; C hears each release and
    // lets the blob go from its cache too.
    await eventually(
      'every blob unlinked from the registry and evicted from C\'s cache',
      async () => {
        for (const digest of blobs) if (await inRegistry(digest)) return `${digest} still in the registry`;
        const left = blobs.filter(cached);
        return left.length === 0 ? undefined : `still cached on C: ${left.join(', ')}`;
      },
      10_000,
    );
  });
});
