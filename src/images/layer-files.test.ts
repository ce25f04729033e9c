import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { InvalidArgumentError } from '../errors.js';
import { buildTar, tempStore, zstdStored } from '../archive/testing/archive-builder.js';
import { LayerListings } from './layer-files.js';

describe('LayerListings', () => {
  let store: Awaited<ReturnType<typeof tempStore>>;
  let dir: string;
  let tar: Buffer;
  before(async () => {
    store = await tempStore();
    dir = mkdtempSync(path.join(tmpdir(), 'lading-listings-'));
    tar = await buildTar([
      { name: './etc/', type: 'directory' },
      { name: './etc/big', data: Buffer.alloc(50_000, 1) },
      { name: './etc/.wh.gone' },
      { name: './var/.wh..wh..opq' },
    ]);
  });
  after(() => {
    store.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists a plain, gzip or zstd layer alike, whiteouts and opaque directories recognised', async () => {
    const listings = new LayerListings(store.store, {}, dir);
    for (const blob of [tar, gzipSync(tar), zstdStored(tar)]) {
      const { digest } = await store.store.writeBytes(blob);
      assert.deepEqual(await listings.files(digest), [
        { path: 'etc', kind: 'dir', size: 0, mode: 0o755 },
        { path: 'etc/big', kind: 'file', size: 50_000, mode: 0o644 },
        { path: 'etc/gone', kind: 'whiteout', size: 0, mode: 0 },
        { path: 'var', kind: 'opaque', size: 0, mode: 0 },
      ]);
    }
    assert.equal(listings.computed, 3);
    assert.ok(readdirSync(dir).every((f) => f.endsWith('.ndjson')), 'no temp file left');
  });

  it("decompresses under the daemon's import limits, and keeps nothing of a refused layer", async () => {
    const refusing = path.join(dir, 'refused');
    const listings = new LayerListings(store.store, { maxUnpackedLayerSize: 10_000 }, refusing);
    const { digest } = await store.store.writeBytes(gzipSync(tar));
    await assert.rejects(listings.files(digest), (e: unknown) => e instanceof InvalidArgumentError && /the limit of --max-unpacked-layer-size/.test(e.message));
    assert.deepEqual(readdirSync(refusing), []);
  });

  it('refuses what is no tar', async () => {
    const { digest } = await store.store.writeBytes(gzipSync(Buffer.alloc(1024, 0x41)));
    await assert.rejects(new LayerListings(store.store, {}, dir).files(digest), (e: unknown) => e instanceof InvalidArgumentError && /invalid tar header/.test(e.message));
  });
});
