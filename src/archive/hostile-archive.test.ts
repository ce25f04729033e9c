// Archives made to hurt: each is refused with an InvalidArgumentError that says why, and leaves
// nothing in the ingest area.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { InvalidArgumentError } from '../errors.js';
import { MediaType } from '../oci/media-types.js';
import { buildTar, chunked, tempStore } from './testing/archive-builder.js';
import {
  gzipZeroLayer,
  indexChain,
  ociArchiveWithLayer,
  paxEntry,
  rawEntry,
  tarOfRaw,
  zeroDiffId,
  zstdRle,
  zstdZeroLayer,
} from './testing/hostile-archives.js';
import { OCI_LAYOUT, blob, blobEntry, configJson, indexJson, layer, ociManifest } from './testing/image-builder.js';
import type { ImportLimits } from '../layers/compression.js';
import { importArchive, type ImportResult } from './import-archive.js';

const cleanups: Array<() => void> = [];
after(() => cleanups.forEach((c) => c()));

async function refused(data: Buffer, message: RegExp | string, limits?: ImportLimits): Promise<void> {
  const { store, root, cleanup } = await tempStore();
  cleanups.push(cleanup);
  await assert.rejects(importArchive(chunked(data), store, limits ? { limits } : {}), (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${(err as Error)?.stack ?? String(err)}`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
  assert.deepEqual(readdirSync(path.join(root, 'ingest')), [], 'nothing left in ingest');
}

async function accepted(data: Buffer, limits?: ImportLimits): Promise<ImportResult> {
  const { store, cleanup } = await tempStore();
  cleanups.push(cleanup);
  return importArchive(chunked(data), store, limits ? { limits } : {});
}

describe('decompression bombs', () => {
  it('a gzip layer that expands past --max-unpacked-layer-size', async () => {
    const size = 8 * 1024 * 1024;
    const archive = ociArchiveWithLayer(gzipZeroLayer(size), zeroDiffId(size), MediaType.ociLayerGzip);
    await refused(
      archive,
      /^layer 0 of manifest sha256:[0-9a-f]{64}: sha256:[0-9a-f]{64}: layer expands to more than 1048576 bytes uncompressed \(the limit of --max-unpacked-layer-size\)$/,
      { maxUnpackedLayerSize: 1024 * 1024 },
    );
    const ok = await accepted(archive, { maxUnpackedLayerSize: 16 * 1024 * 1024 });
    assert.equal(ok.layers[0]?.unpackedSize, size, 'under the limit it loads');
  });

  it('a zstd layer that expands far more than its size (ratio guard)', async () => {
    const size = 64 * 1024 * 1024;
    const bomb = zstdZeroLayer(size);
    assert.ok(bomb.length < 4096, `the bomb is ${bomb.length} bytes`);
    const archive = ociArchiveWithLayer(bomb, 'sha256:' + '0'.repeat(64), MediaType.ociLayerZstd);
    await refused(archive, /layer expands more than 1000 times \(\d+ compressed bytes to more than \d+\): refused as a decompression bomb/, {
      maxDecompressionRatio: 1000,
      ratioFloor: 1024 * 1024,
    });
  });

  it('a compressed archive body that expands far more than its size', async () => {
    const size = 32 * 1024 * 1024;
    const body = zstdRle(rawEntry({ name: 'zeros', size }), size, Buffer.alloc(1024));
    await refused(body, /^the zstd-compressed archive expands more than 100 times/, { maxDecompressionRatio: 100, ratioFloor: 1024 * 1024 });
    const gz = gzipSync(Buffer.concat([rawEntry({ name: 'zeros', size }), Buffer.alloc(size), Buffer.alloc(1024)]));
    await refused(gz, /^the gzip-compressed archive expands more than 100 times/, { maxDecompressionRatio: 100, ratioFloor: 1024 * 1024 });
  });
});

describe('tar headers', () => {
  it('a PAX header larger than the reader holds in memory', async () => {
    const huge = rawEntry({ name: 'PaxHeaders/x', type: 'x', size: 64 * 1024 * 1024 });
    await refused(Buffer.concat([huge, Buffer.alloc(4096)]), /^archive\/tar: header field too long$/);
  });

  it('names longer than PATH_MAX, by PAX or GNU long name', async () => {
    const long = 'a/'.repeat(3000) + 'x';
    await refused(tarOfRaw([paxEntry({ path: long }), rawEntry({ name: 'short', data: Buffer.from('x') })]), /^archive entry name is longer than 4096 bytes/);
    await refused(
      tarOfRaw([rawEntry({ name: '././@LongLink', type: 'L', data: Buffer.from(long + '\0') }), rawEntry({ name: 'short', data: Buffer.from('x') })]),
      /^archive entry name is longer than 4096 bytes/,
    );
    await refused(tarOfRaw([paxEntry({ linkpath: long }), rawEntry({ name: 'l', type: '2' })]), /^archive entry link target is longer than 4096 bytes/);
  });

  it('header sizes that lie, negative sizes, endless PAX headers', async () => {
    await refused(tarOfRaw([rawEntry({ name: 'big', size: 2 ** 40, data: Buffer.from('tiny') })]), /^unexpected EOF$/);
    await refused(tarOfRaw([paxEntry({ size: '-5' }), rawEntry({ name: 'f', data: Buffer.from('x') })]), /^archive\/tar: invalid tar header$/);
    const endless = Buffer.concat(Array.from({ length: 200 }, () => paxEntry({ comment: 'x'.repeat(100_000) })));
    await refused(endless, /^archive\/tar: |^unrecognized image format$/);
  });

  it('names that are not UTF-8 are read with U+FFFD, and then refused or unused', async () => {
    const bad = Buffer.from([0x6d, 0x61, 0xff, 0xfe, 0x6e]);
    await refused(tarOfRaw([rawEntry({ name: bad, data: Buffer.from('x') })]), 'unrecognized image format');
    const manifest = Buffer.concat([Buffer.from('[{"Config":"c","RepoTags":["a'), Buffer.from([0xff]), Buffer.from('b:1"],"Layers":[]}]')]);
    await refused(
      tarOfRaw([rawEntry({ name: 'c', data: Buffer.from(configJson([])) }), rawEntry({ name: 'manifest.json', data: manifest })]),
      /^normalize image ref "a\uFFFDb:1": invalid reference format/,
    );
  });
});

describe('archive structure', () => {
  it('entries repeated with different content are refused; identical repeats are fine', async () => {
    const l = await layer({ 'etc/x': 'x' });
    const config = blob(configJson([l.diffId]), MediaType.ociConfig);
    const layerBlob = blob(l.tar, MediaType.ociLayer);
    const manifest = ociManifest(config.desc, [layerBlob.desc]);
    const entries = [OCI_LAYOUT, blobEntry(layerBlob), blobEntry(config), blobEntry(manifest), indexJson([manifest.desc])];
    await refused(
      await buildTar([...entries, { name: 'index.json', data: JSON.stringify({ schemaVersion: 2, manifests: [] }) }]),
      'duplicate archive entry "index.json" with different content',
    );
    await refused(await buildTar([{ name: 'a', data: '1' }, { name: './a', data: '2' }]), 'duplicate archive entry "a" with different content');
    await refused(await buildTar([{ name: 'a', data: '1' }, { name: 'a', type: 'symlink', linkname: 'b' }]), 'duplicate archive entry "a" with different content');
    const again = await accepted(await buildTar([...entries, blobEntry(config), indexJson([manifest.desc])]));
    assert.equal(again.images.length, 1);
  });

  it('indexes nested deeper than inspect walks; deeply nested and giant JSON', async () => {
    const l = await layer({ 'etc/x': 'x' });
    const config = blob(configJson([l.diffId]), MediaType.ociConfig);
    const layerBlob = blob(l.tar, MediaType.ociLayer);
    const manifest = ociManifest(config.desc, [layerBlob.desc]);
    const chain = (depth: number): Buffer[] => {
      const { top, blobs } = indexChain(manifest, depth);
      return [OCI_LAYOUT, ...[layerBlob, config, manifest, ...blobs].map(blobEntry), indexJson([top.desc])].map((e) =>
        rawEntry({ name: e.name, data: Buffer.from(e.data) }),
      );
    };
    assert.equal((await accepted(tarOfRaw(chain(9)))).images.length, 1, 'nine levels: inspect walks them all');
    await refused(tarOfRaw(chain(10)), /indexes nest more than 8 levels deep$/);

    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    await refused(await buildTar([{ name: 'manifest.json', data: deep }]), 'invalid JSON in manifest.json: exceeded max depth');
    // Deep enough to overflow a recursive walker (JSON.stringify, when the target is stored), within Go's limit.
    const deepAnnotation = JSON.stringify({ ...manifest.desc, annotations: { a: 'DEEP' } }).replace('"DEEP"', '['.repeat(9000) + ']'.repeat(9000));
    await refused(
      await buildTar([OCI_LAYOUT, { name: 'index.json', data: `{"schemaVersion":2,"manifests":[${deepAnnotation}]}` }]),
      'index.json, manifests[0]: annotations must map strings to strings',
    );
    await refused(
      await buildTar([{ name: 'manifest.json', data: '[' + '"x",'.repeat(1_200_000) + '"x"]' }]),
      /^manifest.json in the archive is \d+ bytes, more than the limit of 4194304$/,
    );
  });

  it('cycles: links that point at each other, an index that names one manifest ten thousand times', async () => {
    const manifest = JSON.stringify([{ Config: 'a', RepoTags: ['cycle:1'], Layers: [] }]);
    await refused(
      await buildTar([{ name: 'a', type: 'symlink', linkname: 'b' }, { name: 'b', type: 'symlink', linkname: 'a' }, { name: 'manifest.json', data: manifest }]),
      'image config "a": too many levels of links',
    );
    await refused(
      await buildTar([{ name: 'a', type: 'symlink', linkname: 'a' }, { name: 'manifest.json', data: manifest }]),
      'image config "a": too many levels of links',
    );
    // Digests make a real cycle of manifests impossible; a wide DAG is walked once per blob.
    const l = await layer({ 'etc/x': 'x' });
    const config = blob(configJson([l.diffId]), MediaType.ociConfig);
    const layerBlob = blob(l.tar, MediaType.ociLayer);
    const m = ociManifest(config.desc, [layerBlob.desc]);
    const wide = blob(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: Array.from({ length: 10_000 }, () => m.desc) }), MediaType.ociIndex);
    const started = Date.now();
    const res = await accepted(await buildTar([OCI_LAYOUT, ...[layerBlob, config, m, wide].map(blobEntry), indexJson([wide.desc])]));
    assert.equal(res.images.length, 1);
    assert.ok(Date.now() - started < 10_000, 'each blob is checked once');
  });

  it('descriptors whose platform or urls have the wrong types', async () => {
    const d = { mediaType: MediaType.ociManifest, digest: 'sha256:' + 'a'.repeat(64), size: 1 };
    for (const [extra, message] of [
      [{ platform: 'linux/amd64' }, /^index.json, manifests\[0\]: invalid platform "linux\/amd64"$/],
      [{ platform: { os: 'linux', architecture: 7 } }, /invalid platform/],
      [{ urls: [1] }, /urls must be a list of strings/],
    ] as const) {
      await refused(await buildTar([OCI_LAYOUT, { name: 'index.json', data: JSON.stringify({ manifests: [{ ...d, ...extra }] }) }]), message);
    }
  });
});
