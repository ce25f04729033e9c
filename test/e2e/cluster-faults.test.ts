// Replicas when parts fail (issue 14 items 5 and 7): PostgreSQL stopped and started, a replica
// killed with kill -9 in the middle of a load, the blob registry stopped.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import { startCluster, type Cluster } from '../support/cluster.js';
import type { Daemon } from '../support/daemon.js';
import { layoutTar, multiPlatformImage, noCreatedImage, ociArchive, singlePlatformImage, type ImageFixture } from '../support/images.js';
import { tempDir } from '../support/paths.js';
import { skipWithoutPostgres, startPostgres, type PostgresCluster } from '../support/postgres.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const LEASE_TTL_MS = 2000;

function ok(res: { code: number | null; stdout: string; stderr: string }, what: string, d: Daemon): string {
  assert.equal(res.code, 0, `${what}: ${res.stderr}\n${d.logs()}`);
  return res.stdout;
}

describe('replicas when parts fail', { skip: skipWithoutPostgres() }, () => {
  let pg: PostgresCluster;
  let url: string;
  let cluster: Cluster;
  let a: Daemon, b: Daemon;
  let fx: ImageFixture, other: ImageFixture;

  before(async () => {
    pg = await startPostgres();
    url = await pg.createDatabase();
    [cluster, fx, other] = await Promise.all([
      startCluster(2, { databaseUrl: url, extraArgs: ['--lease-ttl', `${LEASE_TTL_MS}ms`] }),
      singlePlatformImage(),
      noCreatedImage(),
    ]);
    [a, b] = cluster.replicas as [Daemon, Daemon];
  });
  after(async () => {
    await cluster?.stop();
    await pg?.remove();
  });

  it('PostgreSQL stopped: requests answer 503 with a clear message; started again, the replicas work by themselves', async () => {
    ok(await a.docker(['load', '-i', await ociArchive(fx)]), 'load on A', a);
    await pg.stop();
    try {
      const res = await b.request(`/v1.51/images/${fx.familiar}/json`);
      assert.equal(res.status, 503, res.text);
      assert.match(res.text, /metadata database unavailable: PostgreSQL at 127\.0\.0\.1:\d+\/lading_\d+/);
      const tag = await a.docker(['tag', fx.familiar, 'while-down:v1']);
      assert.notEqual(tag.code, 0);
      assert.match(tag.stderr, /metadata database unavailable/, a.logs());
    } finally {
      await pg.start();
    }
    let inspected = await b.docker(['image', 'inspect', fx.familiar]);
    for (let waited = 0; inspected.code !== 0 && waited < 30_000; waited += 250) {
      await sleep(250);
      inspected = await b.docker(['image', 'inspect', fx.familiar]);
    }
    ok(inspected, 'inspect on B once PostgreSQL is back', b);
    ok(await a.docker(['tag', fx.familiar, 'after-outage:v1']), 'tag on A after the outage', a);
    ok(await b.docker(['image', 'inspect', 'after-outage:v1']), 'B sees A\'s tag', b);
  });

  it('a replica killed with kill -9 during a load: nothing of it visible, and its leases lapse after the TTL', async () => {
    const body = readFileSync(await ociArchive(other));
    // All of the archive but its end-of-archive blocks: the load is in flight when its replica dies.
    const req = http.request({ socketPath: a.socket, path: '/v1.51/images/load?quiet=1', method: 'POST', headers: { 'Content-Type': 'application/x-tar' } });
    req.on('error', () => undefined);
    req.write(body.subarray(0, body.length - 1024));
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const live = async (): Promise<number> => Number((await sql`SELECT count(*)::int AS n FROM leases WHERE expires_at > now()`)[0]!.n);
      for (let waited = 0; (await live()) === 0 && waited < 20_000; waited += 100) await sleep(100);
      assert.ok((await live()) > 0, 'the load in flight holds leases in the database');
      await a.kill();
      const listed = ok(await b.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']), 'images on B', b);
      assert.ok(!listed.includes(other.familiar), `nothing of the killed load is visible:\n${listed}`);
      assert.ok((await live()) > 0, 'its leases outlive it for the TTL');
      for (let waited = 0; (await live()) > 0 && waited < LEASE_TTL_MS + 10_000; waited += 100) await sleep(100);
      assert.equal(await live(), 0, 'and then lapse');
    } finally {
      await sql.end({ timeout: 1 });
    }
    // The same load through B completes: what A left is neither in the way nor counted on.
    ok(await b.docker(['load', '-i', await ociArchive(other)]), 'load on B', b);
    ok(await b.docker(['image', 'inspect', other.familiar]), 'inspect on B', b);
  });

  it('the blob registry stopped: reads of cached blobs go on, a load fails clearly', async () => {
    const out = path.join(await tempDir('cluster-faults-'), 'saved.tar');
    ok(await b.docker(['save', '-o', out, fx.familiar]), 'save on B fills its cache', b);
    const host = cluster.registry.host;
    await cluster.registry.stop();
    ok(await b.docker(['image', 'inspect', fx.familiar]), 'inspect with the registry down', b);
    ok(await b.docker(['save', '-o', out, fx.familiar]), 'save from B\'s cache with the registry down', b);
    const res = await b.request('/v1.51/images/load?quiet=1', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-tar' },
      body: readFileSync(await layoutTar(await multiPlatformImage({ repo: 'lading-third', omit: 'arm64' }))),
      timeoutMs: 60_000,
    });
    assert.equal(res.status, 503, res.text);
    assert.match(res.text, new RegExp(`the blob store registry://${host.replaceAll('.', '\\.')}/lading/blobs is unavailable`));
  });
});
