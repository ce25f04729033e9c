import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { availableZstdDecoders, createZstdDecompressor, zstdDecoder } from './zstd-decompressor.js';

/** Text that compresses about 10:1 with the zstd CLI, as real layers and archives do. */
function compressible(bytes: number): Buffer {
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const line = `line ${i} ${createHash('sha256').update(String(i % 97)).digest('hex')}\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

function sha(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

describe('zstd decoder choice', () => {
  it('is native (Node\'s zlib, else zstd-napi built at install), never the pure-JS fallback where one loads', () => {
    assert.ok(availableZstdDecoders().includes('zstd-napi') || availableZstdDecoders().includes('node:zlib'), `decoders here: ${availableZstdDecoders().join(', ')}`);
    assert.notEqual(zstdDecoder(), 'fzstd');
  });
});

for (const decoder of availableZstdDecoders()) describe(`zstd decompressor (${decoder})`, () => {
  it('streams a body compressed by the zstd CLI to a reader slower than the decoder', async () => {
    // Issue 12: from about 170 KB of compressible body, a reader that took its chunks one turn at
    // a time left the decoder waiting for a read that never came, and the stream stopped for good.
    const plain = compressible(4 * 1024 * 1024);
    const packed = execFileSync('zstd', ['-q', '-c'], { input: plain, maxBuffer: 64 * 1024 * 1024 });
    const chunks = Array.from({ length: Math.ceil(packed.length / 65536) }, (_, i) => packed.subarray(i * 65536, (i + 1) * 65536));
    const out = Readable.from(chunks).pipe(createZstdDecompressor(decoder));
    const hash = createHash('sha256');
    let total = 0;
    for await (const chunk of out) {
      hash.update(chunk as Buffer);
      total += (chunk as Buffer).length;
      await nextTurn();
    }
    assert.equal(total, plain.length);
    assert.equal(hash.digest('hex'), sha(plain));
  });

  it('fails with the decoder message on a cut stream', async () => {
    const packed = execFileSync('zstd', ['-q', '-c'], { input: compressible(300_000) });
    const out = Readable.from([packed.subarray(0, packed.length - 100)]).pipe(createZstdDecompressor(decoder));
    await assert.rejects(async () => {
      for await (const _ of out) void _;
    }, /^Error: zstd: /);
  });
  it('holds little of a bomb while its reader reads nothing', async () => {
    const packed = execFileSync('zstd', ['-q', '-c'], { input: Buffer.alloc(256 * 1024 * 1024), maxBuffer: 64 * 1024 * 1024 });
    const out = createZstdDecompressor(decoder);
    out.write(packed);
    for (let i = 0; i < 20; i++) await nextTurn();
    // fzstd's step may expand to 32 MiB; libzstd's to one output buffer.
    assert.ok(out.readableLength <= 40 * 1024 * 1024, `${out.readableLength} bytes held for a reader that reads nothing`);
    out.destroy();
  });
  it('gives a flowing reader that defers its work (a hash in a microtask) its turns: little is held at once', async () => {
    const packed = execFileSync('zstd', ['-q', '-c'], { input: Buffer.alloc(256 * 1024 * 1024), maxBuffer: 64 * 1024 * 1024 });
    const out = createZstdDecompressor(decoder);
    let pending = 0;
    let most = 0;
    let total = 0;
    out.on('data', (chunk: Buffer) => {
      pending += chunk.length;
      most = Math.max(most, pending);
      if (pending === chunk.length) queueMicrotask(() => (total += pending, (pending = 0)));
    });
    const ended = new Promise((resolve) => out.on('end', resolve));
    out.end(packed);
    await ended;
    assert.equal(total, 256 * 1024 * 1024);
    // libzstd: one turn's output; fzstd: that and one 1 KiB slice of input (32 MiB at most).
    assert.ok(most <= 40 * 1024 * 1024, `${most} bytes decoded before the reader's deferred work ran`);
  });
});
