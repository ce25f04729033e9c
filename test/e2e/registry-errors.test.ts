// What `docker pull` and `docker load` print when the registry is not there, does not answer, or answers slowly,
// and when the archive is not a tar: Docker 28's texts (Go's net and archive/tar words), and a registry that takes
// the connection and never answers fails within --registry-response-timeout while a slow one is never cut.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ok } from '../support/cli-result.js';
import type { RunResult } from '../support/exec.js';
import { blobPath } from '../support/fault-proxy.js';
import { RegistryFixture } from '../support/registry-fixture.js';

/** A port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function failed(res: RunResult, what: string): RunResult {
  assert.equal(res.code, 1, `${what} should fail\n${res.stdout}\n${res.stderr}`);
  return res;
}

describe('registry and archive errors in Docker\'s words', { timeout: 300_000 }, () => {
  let fx: RegistryFixture;
  before(async () => {
    fx = await RegistryFixture.start({ daemon: { extraArgs: ['--registry-response-timeout', '2s'] } });
  });
  after(() => fx?.stop());

  it('a pull from a port nothing listens on: 500 and Go\'s `connect: connection refused`', async () => {
    const port = await closedPort();
    const ref = `127.0.0.1:${port}/x/y:1`;
    const text = `failed to resolve reference "${ref}": failed to do request: Head "https://127.0.0.1:${port}/v2/x/y/manifests/1": dial tcp 127.0.0.1:${port}: connect: connection refused`;
    const res = failed(await fx.d.docker(['pull', ref]), 'pull from a closed port');
    assert.equal(res.stderr.trim(), `Error response from daemon: ${text}`);
    const raw = await fx.d.request(`/v1.51/images/create?fromImage=${encodeURIComponent(`127.0.0.1:${port}/x/y`)}&tag=1`, { method: 'POST' });
    assert.equal(raw.status, 500);
    assert.deepEqual(JSON.parse(raw.text), { message: text });
  });

  it('a pull from a host no resolver knows: Go\'s `lookup <host>: no such host`', async () => {
    const res = failed(await fx.d.docker(['pull', 'nosuch.invalid/x/y:1']), 'pull from an unknown host');
    assert.equal(
      res.stderr.trim(),
      'Error response from daemon: failed to resolve reference "nosuch.invalid/x/y:1": failed to do request: Head "https://nosuch.invalid/v2/x/y/manifests/1": dial tcp: lookup nosuch.invalid: no such host',
    );
  });

  it('a registry that takes the connection and never answers fails within the response timeout, named', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const started = Date.now();
      const res = failed(await fx.d.docker(['pull', `${host}/x/y:1`], { timeoutMs: 120_000 }), 'pull from a silent registry');
      const took = Date.now() - started;
      assert.equal(
        res.stderr.trim(),
        `Error response from daemon: failed to resolve reference "${host}/x/y:1": failed to do request: Head "https://${host}/v2/x/y/manifests/1": registry ${host} sent no response headers within 2s`,
      );
      // Two tries of 2 s and a backoff; generous for a busy machine, far below the 60 s socket idle timeout.
      assert.ok(took < 30_000, `took ${took} ms`);
      assert.ok(sockets.size >= 1 && sockets.size <= 2, `${sockets.size} connections`);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('a registry sending a blob at 1 byte/s for longer than the response timeout is not cut', async () => {
    const { proxy, single } = fx;
    proxy.clearFaults();
    proxy.resetCounts();
    const layer = single.images[0]!.layers[0]!;
    const slow = proxy.inject({ path: blobPath(layer.digest), fault: { kind: 'trickle', bytes: 4, everyMs: 1000 } });
    const started = Date.now();
    ok(await fx.d.docker(['pull', proxy.ref('lab/single:v1')], { timeoutMs: 120_000 }), 'pull from a slow registry', fx.d);
    assert.equal(slow.applied, 1);
    assert.ok(Date.now() - started >= 4_000, 'the blob took longer than the response timeout');
    // One GET, never cut and resumed.
    assert.equal(proxy.count(blobPath(layer.digest), 'GET'), 1);
    proxy.clearFaults();
  });

  it('docker load of random bytes: Go\'s `archive/tar: invalid tar header`, exit 1', async () => {
    const junk = randomBytes(64 * 1024);
    junk[0] = 0x42; // no compression's magic number
    const res = failed(await fx.d.docker(['load'], { input: junk }), 'load of random bytes');
    assert.equal(res.stderr.trim(), 'Error response from daemon: archive/tar: invalid tar header');
  });
});
