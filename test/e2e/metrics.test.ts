// GET /metrics on --metrics-addr, as dockerd serves it: a ladingd with metrics on, a few requests
// (loads, inspects from the response cache and not, a list, an rmi whose GC deletes blobs), then the
// counters and gauges those requests must have produced; the flag's refusals; the metrics address
// serving nothing of the Docker API and the API's sockets serving no /metrics.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { describe, it } from 'node:test';
import { buildArchives, LADINGD, Rng } from '../crash/kill-harness.js';
import { freePort, makePki } from '../support/certs.js';
import { Daemon } from '../support/daemon.js';
import { run } from '../support/exec.js';
import { tempDir } from '../support/paths.js';
import { getTcp, scrape } from '../support/prometheus-text.js';

/** The embedded store's blob files: digest hex → size. */
function blobFiles(dataRoot: string): Map<string, number> {
  const dir = path.join(dataRoot, 'content', 'blobs', 'sha256');
  return new Map(readdirSync(dir).map((name) => [name, statSync(path.join(dir, name)).size]));
}

const INSPECT = '/images/(.+)/json';

describe('GET /metrics', { timeout: 180_000 }, () => {
  it('counts requests by route, response cache hits and misses, loads, removals and GC, and reads the store sizes', async () => {
    const archives = (await buildArchives(new Rng(1414), 6)).filter((a) => a.names.size > 0 && a.untagged === 0);
    const [first, second] = archives.filter((a, i) => archives.findIndex((b) => [...b.names.values()].some((t) => [...a.names.values()].includes(t))) === i);
    assert.ok(first && second, 'two archives with different targets');
    const port = await freePort();
    const d = await Daemon.start({ logLevel: 'info', extraArgs: ['--metrics-addr', `127.0.0.1:${port}`] });
    try {
      assert.match(d.output(), new RegExp(`msg="Serving metrics on http://127\\.0\\.0\\.1:${port}/metrics"`));
      for (const archive of [first, second]) {
        const res = await d.request('/v1.51/images/load?quiet=1', { method: 'POST', body: archive.tar, headers: { 'Content-Type': 'application/x-tar' } });
        assert.equal(res.status, 200, res.text);
      }
      const name = [...first.names.keys()][0]!;
      for (let i = 0; i < 2; i++) assert.equal((await d.request(`/v1.51/images/${encodeURIComponent(name)}/json`)).status, 200);
      assert.equal((await d.request('/v1.51/images/lading-no-such:1/json')).status, 404);
      for (let i = 0; i < 3; i++) assert.equal((await d.request('/v1.51/images/json')).status, 200);

      const loaded = await scrape(port);
      const blobs = blobFiles(d.dataRoot);
      assert.equal(loaded.count('lading_http_requests_total', { method: 'POST', route: '/images/load', status: '2xx' }), 2);
      assert.equal(loaded.count('lading_http_requests_total', { method: 'GET', route: INSPECT, status: '2xx' }), 2);
      assert.equal(loaded.count('lading_http_requests_total', { method: 'GET', route: INSPECT, status: '4xx' }), 1);
      assert.equal(loaded.count('lading_http_requests_total', { method: 'GET', route: '/images/json', status: '2xx' }), 3);
      assert.equal(loaded.count('lading_http_request_duration_seconds_count', { method: 'GET', route: INSPECT, status: '2xx' }), 2);
      // The first inspect of a name renders, the second is the cached answer; a 404 is neither.
      assert.equal(loaded.count('lading_response_cache_misses_total', { kind: 'inspect' }), 1);
      assert.equal(loaded.count('lading_response_cache_hits_total', { kind: 'inspect' }), 1);
      assert.equal(loaded.count('lading_response_cache_misses_total', { kind: 'list' }), 1);
      assert.equal(loaded.count('lading_response_cache_hits_total', { kind: 'list' }), 2);
      assert.equal(loaded.count('lading_operations_total', { operation: 'load', outcome: 'success' }), 2);
      assert.ok(loaded.count('lading_operation_bytes_total', { operation: 'load' }) > 0);
      const targets = (...of: typeof archives): number => new Set(of.flatMap((a) => [...a.names.values()])).size;
      assert.equal(loaded.find('lading_images'), targets(first, second));
      assert.equal(loaded.find('lading_image_records'), first.names.size + second.names.size);
      assert.equal(loaded.find('lading_blobs'), blobs.size);
      assert.equal(loaded.find('lading_blob_bytes'), [...blobs.values()].reduce((a, b) => a + b, 0));
      // prom-client's process metrics, in Lading's registry.
      assert.ok(loaded.has('process_cpu_user_seconds_total') && loaded.has('nodejs_heap_size_used_bytes'));

      // docker rmi of every name of the second image: its own blobs are collected.
      for (const other of second.names.keys()) {
        const rm = await d.request(`/v1.51/images/${encodeURIComponent(other)}`, { method: 'DELETE' });
        assert.equal(rm.status, 200, rm.text);
      }
      const after = blobFiles(d.dataRoot);
      const gone = [...blobs].filter(([hex]) => !after.has(hex));
      assert.ok(gone.length > 0);
      const removed = await scrape(port);
      assert.equal(removed.count('lading_operations_total', { operation: 'remove', outcome: 'success' }), second.names.size);
      assert.ok(removed.count('lading_gc_runs_total') > loaded.count('lading_gc_runs_total'));
      assert.equal(removed.count('lading_gc_deleted_blobs_total') - loaded.count('lading_gc_deleted_blobs_total'), gone.length);
      assert.equal(removed.count('lading_gc_freed_bytes_total') - loaded.count('lading_gc_freed_bytes_total'), gone.reduce((sum, [, size]) => sum + size, 0));
      assert.equal(removed.count('lading_gc_duration_seconds_count'), removed.count('lading_gc_runs_total'));
      assert.equal(removed.find('lading_images'), targets(first));
      assert.equal(removed.find('lading_image_records'), first.names.size);
      assert.equal(removed.count('lading_http_requests_total', { method: 'DELETE', route: '/images/(.*)', status: '2xx' }), second.names.size);
      // No registry tier: no blob cache metrics.
      assert.equal(removed.has('lading_blob_cache_hits_total'), false);
    } finally {
      await d.stop();
    }
  });

  it('is served on the metrics address only: there no Docker API, on the API socket no /metrics', async () => {
    const port = await freePort();
    const d = await Daemon.start({ logLevel: 'info', extraArgs: ['--metrics-addr', `127.0.0.1:${port}`] });
    try {
      for (const p of ['/_ping', '/v1.51/version', '/images/json', '/metrics/', '/']) {
        const res = await getTcp(port, p);
        assert.equal(res.status, 404, p);
        assert.equal(res.text, '404 page not found\n');
      }
      const metrics = await getTcp(port, '/metrics');
      assert.equal(metrics.status, 200);
      assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4/);
      for (const p of ['/metrics', '/v1.51/metrics']) {
        const res = await d.request(p);
        assert.equal(res.status, 404, p);
        assert.deepEqual(res.json(), { message: 'page not found' });
      }
    } finally {
      await d.stop();
    }
    // Off by default: nothing but the API.
    const plain = await Daemon.start({ logLevel: 'info' });
    try {
      assert.doesNotMatch(plain.output(), /Serving metrics/);
      assert.equal((await plain.request('/metrics')).status, 404);
    } finally {
      await plain.stop();
    }
  });

  it('with the API on TLS, is served over HTTPS to clients with a certificate of the CA only', async () => {
    const pki = await makePki();
    const port = await freePort();
    const d = await Daemon.start({
      logLevel: 'info',
      extraArgs: ['--tlsverify', '--tlscacert', pki.ca.cert, '--tlscert', pki.server.cert, '--tlskey', pki.server.key, '--metrics-addr', `127.0.0.1:${port}`],
    });
    const get = (client?: { cert: string; key: string }): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = https.get(
          { host: '127.0.0.1', port, path: '/metrics', ca: readFileSync(pki.ca.cert), agent: false, ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}) },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
      });
    try {
      assert.match(d.output(), new RegExp(`msg="Serving metrics on https://127\\.0\\.0\\.1:${port}/metrics"`));
      assert.equal(await get(pki.client), 200);
      await assert.rejects(get(), /certificate|alert|socket hang up|ECONNRESET/i);
      // Plain HTTP gets no metrics.
      await assert.rejects(getTcp(port, '/metrics'));
    } finally {
      await d.stop();
    }
  });

  it('refuses an address beyond loopback without TLS, and an address without a port, before anything is created', async () => {
    const refused = async (value: string): Promise<string> => {
      const dir = tempDir('metrics-refused');
      const dataRoot = path.join(dir, 'data');
      const res = await run(process.execPath, [LADINGD, '-H', `unix://${path.join(dir, 's.sock')}`, '--data-root', dataRoot, '--metrics-addr', value], { timeoutMs: 20_000 });
      assert.notEqual(res.code, 0, res.stdout + res.stderr);
      assert.deepEqual(readdirSync(dir), []);
      return res.stderr;
    };
    assert.match(await refused('0.0.0.0:9323'), /refusing to serve metrics on 0\.0\.0\.0:9323 without TLS/);
    assert.match(await refused(':9323'), /refusing to serve metrics on :9323 without TLS/);
    assert.match(await refused('127.0.0.1'), /invalid metrics address "127\.0\.0\.1": missing port in address/);
  });
});
