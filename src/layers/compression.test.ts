import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { createDecompressor, detectCompression } from './compression.js';
import { zstdStored } from '../archive/testing/archive-builder.js';

/** A zstd frame of RLE blocks: 4 input bytes per 128 KiB of zeros. */
function zstdZeros(blocks: number): Buffer {
  const parts = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])];
  for (let i = 0; i < blocks; i++) {
    const header = ((128 * 1024) << 3) | (1 << 1) | (i === blocks - 1 ? 1 : 0);
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff, 0]));
  }
  return Buffer.concat(parts);
}

describe('compression', () => {
  it('detects formats by magic bytes', () => {
    assert.equal(detectCompression(gzipSync('x')), 'gzip');
    assert.equal(detectCompression(zstdStored(Buffer.from('x'))), 'zstd');
    assert.equal(detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])), 'xz');
    assert.equal(detectCompression(Buffer.from('BZh91AY')), 'bzip2');
    assert.equal(detectCompression(Buffer.from('manifest.json')), 'none');
    assert.equal(detectCompression(Buffer.from([0x1f])), 'none');
  });

  it('zstd output waits for its reader: a small bomb does not fill memory', async () => {
    const blocks = 2000; // 250 MiB out of 8 KiB in
    const decompressor = createDecompressor('zstd');
    decompressor.write(zstdZeros(blocks));
    decompressor.end();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(decompressor.readableLength < 40 * 1024 * 1024, `buffered ${decompressor.readableLength} bytes`);

    let total = 0;
    decompressor.on('data', (chunk: Buffer) => (total += chunk.length));
    await once(decompressor, 'end');
    assert.equal(total, blocks * 128 * 1024);
  });
});
