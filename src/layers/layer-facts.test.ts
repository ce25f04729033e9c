import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { LayerAnalyzer, analyzeLayer, looksLikeLayer } from './layer-facts.js';
import { buildTar, chunked, sha256, zstdStored } from '../archive/testing/archive-builder.js';

async function layerTar(): Promise<Buffer> {
  return buildTar([
    { name: 'app/', type: 'directory' },
    { name: 'app/data.bin', data: Buffer.alloc(300_000, 9) },
    { name: 'app/readme', data: 'hello\n' },
    { name: 'app/link', type: 'symlink', linkname: 'readme' },
  ]);
}
const UNPACKED = 300_000 + 6;

describe('layer facts', () => {
  it('uncompressed tar: diffID is the blob digest', async () => {
    const tar = await layerTar();
    const facts = await analyzeLayer(chunked(tar), {});
    assert.deepEqual(facts, { diffId: sha256(tar), unpackedSize: UNPACKED, compression: 'none' });
  });

  it('gzip: diffID is the digest of the decompressed tar, not of the blob', async () => {
    const tar = await layerTar();
    const gz = gzipSync(tar);
    const facts = await analyzeLayer(chunked(gz, [3, 1000]), {});
    assert.deepEqual(facts, { diffId: sha256(tar), unpackedSize: UNPACKED, compression: 'gzip' });
    assert.notEqual(facts.diffId, sha256(gz));
  });

  it('multi-member gzip is read to its end', async () => {
    const tar = await layerTar();
    const gz = Buffer.concat([gzipSync(tar.subarray(0, 10_000)), gzipSync(tar.subarray(10_000))]);
    assert.equal((await analyzeLayer(chunked(gz), {})).diffId, sha256(tar));
  });

  it('zstd', async () => {
    const tar = await layerTar();
    const facts = await analyzeLayer(chunked(zstdStored(tar), [5, 70_000]), {});
    assert.deepEqual(facts, { diffId: sha256(tar), unpackedSize: UNPACKED, compression: 'zstd' });
  });

  it('an empty blob is an empty uncompressed layer', async () => {
    const analyzer = new LayerAnalyzer({});
    assert.deepEqual(await analyzer.end(), { diffId: sha256(''), unpackedSize: 0, compression: 'none' });
  });

  it('reports a truncated gzip layer at the end, not while writing', async () => {
    const gz = gzipSync(await layerTar());
    const analyzer = new LayerAnalyzer({});
    for await (const chunk of chunked(gz.subarray(0, gz.length - 100))) await analyzer.write(chunk);
    await assert.rejects(analyzer.end(), /unexpected end of file/);
  });

  it('reports a truncated zstd layer and a truncated tar', async () => {
    const tar = await layerTar();
    const zst = zstdStored(tar);
    await assert.rejects(analyzeLayer(chunked(zst.subarray(0, zst.length - 10)), {}), /zstd: unexpected EOF/);
    await assert.rejects(analyzeLayer(chunked(tar.subarray(0, 5000)), {}), /unexpected end of tar data/);
  });

  it('reports a gzip stream that holds no tar', async () => {
    const gz = gzipSync(Buffer.from('not a tar at all, just text, long enough to fill a header block '.repeat(20)));
    await assert.rejects(analyzeLayer(chunked(gz), {}), /invalid tar header/);
  });

  it('tells layers from other blobs by their first bytes', async () => {
    const tar = await layerTar();
    assert.equal(looksLikeLayer(tar.subarray(0, 262)), true);
    assert.equal(looksLikeLayer(gzipSync(tar).subarray(0, 2)), true);
    assert.equal(looksLikeLayer(zstdStored(tar).subarray(0, 4)), true);
    assert.equal(looksLikeLayer(Buffer.from('{"architecture":"amd64"}')), false);
    assert.equal(looksLikeLayer(tar.subarray(0, 200)), false);
  });
});
