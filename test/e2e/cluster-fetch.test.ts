// Replicas pulling at once (issue 14 items 3 and 6): two replicas pulling images that share blobs
// fetch each shared blob from the source registry once, the other finding it in the blob tier; the
// replica holding a blob's fetch killed mid-download, the other fetches it itself and completes its
// pull; each replica's metrics carry its replica id.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../support/certs.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import type { Daemon } from '../support/daemon.js';
import { eventually } from '../support/eventually.js';
import { blobPath, FaultProxy } from '../support/fault-proxy.js';
import { noCreatedImage, singlePlatformImage, type ImageFixture } from '../support/images.js';
import { skipWithoutPostgres } from '../support/postgres.js';
import { scrape } from '../support/prometheus-text.js';
import { Registry } from '../support/registry.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function ok(res: { code: number | null; stdout: string; stderr: string }, what: string, d: Daemon): string {
  assert.equal(res.code, 0, `${what}: ${res.stderr}\n${d.logs()}`);
  return res.stdout;
}

describe('replicas pulling at once', { skip: skipWithoutPostgres(), timeout: 240_000 }, () => {
  let cluster: Cluster;
  let source: Registry;
  let proxy: FaultProxy;
  let fx: ImageFixture, other: ImageFixture;
  let a: Daemon, b: Daemon;
  const metricsPorts: number[] = [];

  before(async () => {
    [source, fx, other] = await Promise.all([Registry.start(), singlePlatformImage(), noCreatedImage()]);
    // Each image under two names, so that two replicas pull different images with the same blobs.
    for (const repo of ['lab/one', 'lab/two']) await source.push(fx, `${repo}:v1`);
    for (const repo of ['lab/three', 'lab/four']) await source.push(other, `${repo}:v1`);
    proxy = await FaultProxy.start({ upstream: source });
    cluster = await startCluster(0);
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      metricsPorts.push(port);
      await cluster.addReplica(['--metrics-addr', `127.0.0.1:${port}`]);
    }
    [a, b] = cluster.replicas as [Daemon, Daemon];
  });
  after(async () => {
    await cluster?.stop();
    await proxy?.stop();
    await source?.stop();
  });

  /** Blob GETs the source registry answered, by digest (any repository). */
  function blobGets(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const r of proxy.matching(blobPath(), 'GET')) {
      const digest = r.path.slice(r.path.lastIndexOf('/') + 1);
      counts.set(digest, (counts.get(digest) ?? 0) + 1);
    }
    return counts;
  }

  it('two replicas pulling images that share blobs at the same time fetch each blob from the source once', async () => {
    proxy.resetCounts();
    // Slow blobs: both pulls are surely in flight together.
    const slow = proxy.inject({ path: blobPath(), fault: { kind: 'delay', ms: 1500 } });
    try {
      const [pa, pb] = await Promise.all([a.docker(['pull', `${proxy.host}/lab/one:v1`]), b.docker(['pull', `${proxy.host}/lab/two:v1`])]);
      ok(pa, 'pull on A', a);
      ok(pb, 'pull on B', b);
    } finally {
      slow.remove();
    }
    const image = fx.images[0]!;
    const blobs = [image.config.digest, ...image.layers.map((l) => l.digest)];
    assert.deepEqual(
      Object.fromEntries(blobGets()),
      Object.fromEntries(blobs.map((d) => [d, 1])),
      `each blob fetched once from the source:\n${a.logs()}\n${b.logs()}`,
    );
    // Both images are whole on both replicas: the tier has every blob.
    for (const d of [a, b]) {
      for (const name of ['one', 'two']) ok(await d.docker(['image', 'inspect', `${proxy.host}/lab/${name}:v1`]), `inspect ${name}`, d);
    }
    const saved = await b.request(`/v1.51/images/get?names=${encodeURIComponent(`${proxy.host}/lab/one:v1`)}`, { timeoutMs: 60_000 });
    assert.equal(saved.status, 200, saved.text);
  });

  it('every metric of a replica carries its replica id, each replica its own', async () => {
    const ids = [a, b].map((d) => /this one is ([0-9a-f-]{36})/.exec(d.output())?.[1]);
    assert.ok(ids[0] && ids[1] && ids[0] !== ids[1], `two replica ids in the logs: ${ids.join(', ')}`);
    for (const [i, port] of metricsPorts.entries()) {
      const metrics = await scrape(port);
      assert.ok(metrics.samples.length > 50, 'a full exposition');
      const unlabelled = metrics.samples.filter((s) => s.labels.replica !== ids[i]);
      assert.deepEqual(unlabelled.map((s) => s.name), [], `replica ${i}: every sample labelled replica="${ids[i]}"`);
      // Counted series keep their own labels beside it.
      assert.ok(metrics.samples.some((s) => s.name === 'lading_operations_total' && s.labels.operation === 'pull' && s.labels.outcome === 'success'));
      assert.ok(metrics.samples.some((s) => s.name === 'lading_http_requests_total' && s.labels.route !== undefined));
    }
  });

  it('the replica fetching a blob killed mid-download: the other, which waited for it, fetches it and completes its pull', async () => {
    proxy.resetCounts();
    // The layer that image has and the first one lacks (its other layer is in the tier already).
    const layer = other.images[0]!.layers[1]!.digest;
    assert.ok(!fx.images[0]!.layers.some((l) => l.digest === layer));
    // A's download of the layer trickles (its first bytes one a second): A is killed in the middle.
    const trickle = proxy.inject({ path: blobPath(layer), fault: { kind: 'trickle', bytes: 60, everyMs: 1000 }, times: 1 });
    const pullA = a.docker(['pull', `${proxy.host}/lab/three:v1`]);
    await eventually(() => trickle.applied === 1, 'A downloading the layer', 30_000);
    const pullB = b.docker(['pull', `${proxy.host}/lab/four:v1`]);
    await eventually(() => proxy.count(/\/lab\/four\/manifests\//) > 0, 'B pulling', 30_000);
    await sleep(2000);
    assert.equal(blobGets().get(layer), 1, 'B waits for A\'s fetch of the layer rather than fetching it alongside');
    await a.kill();
    await pullA.catch(() => undefined);
    ok(await pullB, 'pull on B after A was killed', b);
    assert.equal(blobGets().get(layer), 2, 'B fetched the layer itself once A\'s claim went with it');
    ok(await b.docker(['image', 'inspect', `${proxy.host}/lab/four:v1`]), 'inspect on B', b);
    const saved = await b.request(`/v1.51/images/get?names=${encodeURIComponent(`${proxy.host}/lab/four:v1`)}`, { timeoutMs: 60_000 });
    assert.equal(saved.status, 200, saved.text);
  });
});
