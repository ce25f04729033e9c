// The registry tier beyond the conformance suite, on a real docker-registry: the cache's bound, what
// a registry serving wrong bytes gets, an unreachable registry, and the registry's own garbage
// collection keeping what Lading holds.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { run } from '../../test/support/exec.js';
import { blobPath, FaultProxy } from '../../test/support/fault-proxy.js';
import { Registry, REGISTRY_BIN } from '../../test/support/registry.js';
import { errorKind } from '../errors.js';
import { digestOf } from '../oci/digest.js';
import { BlobCorruptError } from './content-store.js';
import { EMPTY_CONFIG_DIGEST, holderTag } from './holder-manifest.js';
import { registryBlobFile, registryTier, sharedRegistry, stopSharedRegistry } from './testing/registry-content-harness.js';

after(() => stopSharedRegistry());

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const KiB = 1024;

describe('registry tier: the local cache', () => {
  test('stays within --blob-cache-size, evicts the least recently used, and reads what it has without the network', async () => {
    const registry = await sharedRegistry();
    const proxy = await FaultProxy.start({ upstream: registry });
    const tier = await registryTier(proxy.host, 300 * KiB);
    try {
      const [a, b, c] = [randomBytes(128 * KiB), randomBytes(128 * KiB), randomBytes(128 * KiB)];
      const ia = await tier.store.writeBytes(a);
      const ib = await tier.store.writeBytes(b);
      // a is used again: b is now the least recently used.
      assert.deepEqual(await tier.store.readBytes(ia.digest, a.length), a);
      const ic = await tier.store.writeBytes(c);
      assert.ok(tier.cache.size <= 300 * KiB, `cache holds ${tier.cache.size} bytes`);
      assert.deepEqual(tier.cache.list().map((e) => e.digest).sort(), [ia.digest, ic.digest].sort(), 'b was evicted');
      assert.equal(readdirSync(path.join(tier.cacheDir, 'blobs')).length, 2, 'and its file is gone');

      // Cached: no request at all.
      proxy.resetCounts();
      assert.deepEqual(await readAll(tier.store.createReadStream(ic.digest)), c);
      assert.deepEqual(await tier.store.info(ia.digest), ia);
      assert.equal(proxy.count(), 0, 'a cached blob is read without the registry');

      // Evicted: read through from the registry once, then cached again (evicting another).
      assert.deepEqual(await readAll(tier.store.createReadStream(ib.digest)), b);
      assert.equal(proxy.count(blobPath(ib.digest), 'GET'), 1);
      proxy.resetCounts();
      assert.deepEqual(await tier.store.readBytes(ib.digest, b.length), b);
      assert.equal(proxy.count(), 0, 'read through once, then served from the cache');
      assert.ok(tier.cache.size <= 300 * KiB);

      // Larger than the whole cache: stored and read, never cached.
      const big = randomBytes(400 * KiB);
      const ibig = await tier.store.writeBytes(big);
      assert.equal(tier.cache.lookup(ibig.digest), undefined);
      assert.deepEqual(await readAll(tier.store.createReadStream(ibig.digest)), big);
      assert.equal(tier.cache.lookup(ibig.digest), undefined);
      assert.equal(await tier.store.cleanIngest(), 0, 'nothing left in ingest');
    } finally {
      await tier.close();
      await proxy.stop();
    }
  });

  test('a cached copy changed on the disk is refused, dropped, and read again from the registry', async () => {
    const registry = await sharedRegistry();
    const tier = await registryTier(registry.host);
    try {
      const data = randomBytes(64 * KiB);
      const info = await tier.store.writeBytes(data);
      const file = path.join(tier.cacheDir, 'blobs', info.digest.slice('sha256:'.length));
      const bytes = readFileSync(file);
      bytes[10] = bytes[10]! ^ 0xff;
      writeFileSync(file, bytes);
      await assert.rejects(tier.store.readBytes(info.digest, data.length), BlobCorruptError);
      assert.equal(tier.cache.lookup(info.digest), undefined, 'the bad copy is dropped');
      assert.deepEqual(await tier.store.readBytes(info.digest, data.length), data);
      assert.equal(tier.cache.lookup(info.digest), data.length, 'the good copy is cached');
    } finally {
      await tier.close();
    }
  });
});

describe('registry tier: a holder whose blob another replica released', () => {
  test('is written after the cached copy goes back to the registry; a blob cached nowhere is not found', async () => {
    const registry = await sharedRegistry();
    const tier = await registryTier(registry.host);
    try {
      const [target, layer] = [randomBytes(4 * KiB), randomBytes(64 * KiB)];
      const [t, l] = [await tier.store.writeBytes(target), await tier.store.writeBytes(layer)];
      // Another replica's review unlinked the layer; this replica's cache still has it.
      assert.equal(await tier.remote.deleteBlob(l.digest), true);
      assert.equal(await tier.remote.stat(l.digest), undefined);
      await tier.store.holds.hold(t.digest, [t, l]);
      assert.equal(await tier.remote.stat(l.digest), layer.length, 'uploaded again from the cache');
      assert.ok((await tier.remote.tags()).includes(holderTag(t.digest)));

      const gone = await tier.store.writeBytes(randomBytes(8 * KiB));
      await tier.remote.deleteBlob(gone.digest);
      await tier.cache.evict(gone.digest);
      await assert.rejects(tier.store.holds.hold(t.digest, [t, l, gone]), (err: Error) => errorKind(err) === 'not-found' && err.message.includes(gone.digest));
    } finally {
      await tier.close();
    }
  });
});

describe('registry tier: a registry that serves wrong bytes', () => {
  test('is refused by readBytes and by a stream, and nothing is cached', async () => {
    const registry = await sharedRegistry();
    const proxy = await FaultProxy.start({ upstream: registry });
    const tier = await registryTier(proxy.host);
    try {
      const data = randomBytes(200 * KiB);
      const info = await tier.store.writeBytes(data);
      await tier.cache.evict(info.digest);
      const fault = proxy.inject({ path: blobPath(info.digest), fault: { kind: 'wrong-body' } });
      await assert.rejects(tier.store.readBytes(info.digest, data.length), (err: unknown) => {
        assert.ok(err instanceof BlobCorruptError);
        assert.match(err.message, new RegExp(`content ${info.digest} from registry://${proxy.host}/.* does not match its digest`));
        return true;
      });
      let received = 0;
      await assert.rejects(
        (async () => {
          for await (const chunk of tier.store.createReadStream(info.digest)) received += (chunk as Buffer).length;
        })(),
        BlobCorruptError,
      );
      assert.ok(received < data.length, 'the reader never got all of it');
      assert.equal(fault.applied, 2);
      assert.equal(tier.cache.lookup(info.digest), undefined, 'not cached');
      assert.deepEqual(readdirSync(path.join(tier.cacheDir, 'blobs')), []);
      assert.equal(await tier.store.cleanIngest(), 0, 'no spool left behind');
      fault.remove();
      assert.deepEqual(await tier.store.readBytes(info.digest, data.length), data);
    } finally {
      await tier.close();
      await proxy.stop();
    }
  });
});

describe('registry tier: the registry unreachable', () => {
  test('reads of cached blobs go on; writes and other reads fail as unavailable, naming the blob store', async () => {
    const registry = await sharedRegistry();
    const proxy = await FaultProxy.start({ upstream: registry });
    const tier = await registryTier(proxy.host);
    try {
      const data = randomBytes(32 * KiB);
      const cached = await tier.store.writeBytes(data);
      const evicted = await tier.store.writeBytes(Buffer.from('not cached'));
      await tier.cache.evict(evicted.digest);
      const host = proxy.host;
      await proxy.stop();

      assert.deepEqual(await tier.store.readBytes(cached.digest), data);
      assert.deepEqual(await readAll(tier.store.createReadStream(cached.digest)), data);
      assert.equal(await tier.store.has(cached.digest), true);

      const unavailable = (err: unknown): boolean => {
        assert.equal(errorKind(err), 'unavailable', String(err));
        assert.match((err as Error).message, new RegExp(`^the blob store registry://${host}/\\S+ is unavailable: .*connection refused`));
        return true;
      };
      await assert.rejects(tier.store.writeBytes(Buffer.from('a new blob')), unavailable);
      await assert.rejects(tier.store.readBytes(evicted.digest), unavailable);
      await assert.rejects(tier.store.has(evicted.digest), unavailable);
      await assert.rejects(tier.store.holds.hold(cached.digest, [cached]), unavailable);
      assert.equal(await tier.store.cleanIngest(), 0, 'the failed write left nothing');
    } finally {
      await tier.close();
      await proxy.stop();
    }
  });
});

describe('registry tier: the registry\'s garbage collection', () => {
  test('`garbage-collect --delete-untagged` keeps every blob a holder lists and reclaims what Lading released', async (t) => {
    // Storage outside the registry's own directory, which its stop removes: it must outlive the stop.
    const storage = mkdtempSync(path.join(tmpdir(), 'lading-gcstore-'));
    t.after(() => rmSync(storage, { recursive: true, force: true }));
    const overrides = { config: { storage: { filesystem: { rootdirectory: storage } } } };
    let registry = await Registry.start(overrides);
    const repository = 'lading/blobs';
    let tier = await registryTier(registry.host, 1024 ** 3, repository);
    const blob = (s: string) => Buffer.from(s.repeat(1000));
    const [targetA, targetB, shared, onlyA, onlyB, orphan] = ['target A', 'target B', 'shared layer', 'layer of A', 'layer of B', 'never held'].map(blob);
    const info = async (data: Buffer) => tier.store.writeBytes(data);
    const [tA, tB, s, a, b] = [await info(targetA!), await info(targetB!), await info(shared!), await info(onlyA!), await info(onlyB!)];
    await info(orphan!);
    await tier.store.holds.hold(tA.digest, [tA, s, a]);
    await tier.store.holds.hold(tB.digest, [tB, s, b]);
    // Lading's GC lets B go: its holder first, then its own blobs, as garbage-collector.ts does.
    assert.equal(await tier.store.holds.release(tB.digest), true);
    assert.equal(await tier.store.delete(tB.digest), true);
    assert.equal(await tier.store.delete(b.digest), true);
    const tags = await tier.remote.tags();
    assert.deepEqual(tags, [holderTag(tA.digest)]);

    // Offline, as distribution's docs require: the registry stopped, its configuration file kept.
    const config = readFileSync(registry.configPath, 'utf8');
    await registry.stop();
    await tier.close();
    const configFile = path.join(storage, '..', `${path.basename(storage)}.config.json`);
    writeFileSync(configFile, config);
    t.after(() => rmSync(configFile, { force: true }));
    const gc = await run(REGISTRY_BIN, ['garbage-collect', '--delete-untagged', configFile], { timeoutMs: 60_000 });
    assert.equal(gc.code, 0, gc.stderr + gc.stdout);
    t.diagnostic(gc.stdout.split('\n').filter((l) => /eligible|marked/.test(l)).join('\n'));

    for (const kept of [tA, s, a, { digest: EMPTY_CONFIG_DIGEST }]) {
      assert.ok(existsSync(registryBlobFile(storage, kept.digest)), `kept ${kept.digest}`);
    }
    for (const gone of [tB.digest, b.digest, digestOf(orphan!)]) {
      assert.ok(!existsSync(registryBlobFile(storage, gone)), `reclaimed ${gone}`);
    }

    // Served again, every held blob reads back whole through a fresh cache.
    registry = await Registry.start(overrides);
    t.after(() => registry.stop());
    tier = await registryTier(registry.host, 1024 ** 3, repository);
    t.after(() => tier.close());
    assert.deepEqual(await tier.store.readBytes(tA.digest), targetA);
    assert.deepEqual(await tier.store.readBytes(s.digest), shared);
    assert.deepEqual(await tier.store.readBytes(a.digest), onlyA);
    assert.equal(await tier.store.has(b.digest), false);
  });
});
