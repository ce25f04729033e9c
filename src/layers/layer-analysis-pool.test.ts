import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { InvalidArgumentError } from '../errors.js';
import { LayerAnalysisPool } from './layer-analysis-pool.js';
import type { LayerStreamAnalysis } from './layer-facts.js';
import { buildTar, sha256, zstdStored } from '../archive/testing/archive-builder.js';
import { gzipZeroLayer, rawEntry } from '../archive/testing/hostile-archives.js';

describe('layer analysis pool (worker thread)', () => {
  let dir: string;
  let tar: Buffer;
  const file = (name: string, data: Buffer): string => {
    const p = path.join(dir, name);
    writeFileSync(p, data);
    return p;
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lading-analysis-pool-'));
    tar = await buildTar([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/big', data: Buffer.alloc(3_000_000, 7) },
      { name: 'etc/small', data: 'x\n' },
    ]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('analyses gzip, zstd and plain layers as the main thread would, more at once than it runs', async () => {
    // Two workers: zstd decodes on a worker's own thread, so its layers must spread over both.
    const pool = new LayerAnalysisPool(2, 2);
    try {
      const files = [file('a.gz', gzipSync(tar)), file('b.zst', zstdStored(tar)), file('c.tar', tar), file('d.gz', gzipSync(tar))];
      const results = await Promise.all(files.map((f) => pool.analyze(f, {})));
      assert.deepEqual(
        results.map((r) => [r.diffId, r.unpackedSize, r.compression]),
        [
          [sha256(tar), 3_000_002, 'gzip'],
          [sha256(tar), 3_000_002, 'zstd'],
          [sha256(tar), 3_000_002, 'none'],
          [sha256(tar), 3_000_002, 'gzip'],
        ],
      );
    } finally {
      await pool.close();
    }
  });

  it('a broken layer is refused with the reason; a bomb is the input\'s fault (InvalidArgumentError)', async () => {
    const pool = new LayerAnalysisPool(1);
    try {
      const gz = gzipSync(tar);
      const cut = gz.subarray(0, gz.length - 10);
      await assert.rejects(pool.analyze(file('cut.gz', cut), {}), (err: Error) => !(err instanceof InvalidArgumentError) && /unexpected end/i.test(err.message));
      await assert.rejects(
        pool.analyze(file('bomb.gz', gzipZeroLayer(4_000_000)), { maxBytes: 1_000_000 }),
        (err: Error) => err instanceof InvalidArgumentError && /more than 1000000 bytes/.test(err.message),
      );
      await assert.rejects(pool.analyze(path.join(dir, 'missing'), {}), /ENOENT/);
      // The worker survives what it refused.
      assert.equal((await pool.analyze(file('ok.gz', gzipSync(tar)), {})).diffId, sha256(tar));
    } finally {
      await pool.close();
    }
  });

  it('an aborted analysis is refused with the abort reason, queued or running, and the pool goes on', async () => {
    const pool = new LayerAnalysisPool(1);
    try {
      const big = file('big.gz', gzipZeroLayer(200_000_000));
      const abort = new AbortController();
      const running = pool.analyze(big, {}, abort.signal);
      const queued = pool.analyze(big, {}, abort.signal);
      abort.abort(new Error('pull cancelled'));
      await assert.rejects(running, /pull cancelled/);
      await assert.rejects(queued, /pull cancelled/);
      assert.equal((await pool.analyze(file('after.tar', tar), {})).diffId, sha256(tar));
    } finally {
      await pool.close();
    }
  });

  /** Writes `data` to a streamed analysis in `size`-byte chunks, each awaited as the fetch does. */
  async function writeAll(stream: LayerStreamAnalysis, data: Buffer, size: number): Promise<number> {
    let offset = 0;
    while (offset < data.length && !stream.refusal) {
      await stream.write(data.subarray(offset, offset + size));
      offset += size;
    }
    return Math.min(offset, data.length);
  }

  it('analyses layers streamed to it as a pull downloads them, several at once, as the main thread would', async () => {
    const pool = new LayerAnalysisPool(1);
    try {
      const blobs = [gzipSync(tar), zstdStored(tar), tar];
      const results = await Promise.all(
        blobs.map(async (blob) => {
          const stream = pool.open({});
          await writeAll(stream, blob, 100_000);
          return stream.end();
        }),
      );
      assert.deepEqual(
        results.map((r) => [r.diffId, r.unpackedSize, r.compression]),
        [
          [sha256(tar), 3_000_002, 'gzip'],
          [sha256(tar), 3_000_002, 'zstd'],
          [sha256(tar), 3_000_002, 'none'],
        ],
      );
      const cut = gzipSync(tar);
      const broken = pool.open({});
      await writeAll(broken, cut.subarray(0, cut.length - 10), 100_000);
      await assert.rejects(broken.end(), /unexpected end/i);
    } finally {
      await pool.close();
    }
  });

  it('a streamed bomb is refused while it is written, long before its end', async () => {
    const pool = new LayerAnalysisPool(1);
    try {
      // 64 MiB of zeros in about 64 KiB, then 32 MiB of random bytes stored as they are: a layer
      // whose reader must stop near the start, not at the end.
      const random = gzipSync(randomBytes(1 << 20), { level: 0 });
      const bomb = Buffer.concat([gzipSync(Buffer.concat([rawEntry({ name: 'zeros', size: 96 << 20 }), Buffer.alloc(64 << 20)]), { level: 9 }), ...Array.from({ length: 32 }, () => random)]);
      const stream = pool.open({ maxBytes: 1_000_000 });
      const written = await writeAll(stream, bomb, 1 << 20);
      assert.ok(stream.refusal instanceof InvalidArgumentError, 'the refusal is the input\'s fault');
      assert.match(stream.refusal.message, /more than 1000000 bytes/);
      // What the worker may not have answered yet (4 MiB) and a batch: no more.
      assert.ok(written <= 6 << 20, `wrote ${written} of ${bomb.length} bytes before the refusal`);
      await assert.rejects(stream.end(), /more than 1000000 bytes/);
      // The worker goes on with the next layer.
      const next = pool.open({});
      await writeAll(next, gzipSync(tar), 1 << 20);
      assert.equal((await next.end()).diffId, sha256(tar));
    } finally {
      await pool.close();
    }
  });

  /** Writes `data` to `name` in `size`-byte pieces as a load stores a blob, telling `grow` of each. */
  async function writeFollowed(name: string, data: Buffer, size: number, grow: (bytes: number) => void): Promise<void> {
    for (let offset = 0; offset < data.length; offset += size) {
      appendFileSync(path.join(dir, name), data.subarray(offset, offset + size));
      grow(Math.min(offset + size, data.length));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  it('analyses layer files as they are written, several at once, as the main thread would, whatever happens to the file at commit', async () => {
    const pool = new LayerAnalysisPool(2, 2);
    try {
      const blobs = [gzipSync(tar), zstdStored(tar), tar];
      const results = await Promise.all(
        blobs.map(async (blob, i) => {
          const name = `followed-${i}`;
          writeFileSync(path.join(dir, name), blob.subarray(0, 1000));
          const followed = pool.follow(path.join(dir, name), 1000, {});
          await writeFollowed(name, blob.subarray(1000), 300_000, (bytes) => followed.grow(1000 + bytes));
          // The store renames the blob into place (or removes it when already there) at commit.
          if (i === 0) renameSync(path.join(dir, name), path.join(dir, `${name}-committed`));
          if (i === 1) rmSync(path.join(dir, name));
          return followed.end(blob.length);
        }),
      );
      assert.deepEqual(
        results.map((r) => [r.diffId, r.unpackedSize, r.compression]),
        [
          [sha256(tar), 3_000_002, 'gzip'],
          [sha256(tar), 3_000_002, 'zstd'],
          [sha256(tar), 3_000_002, 'none'],
        ],
      );
      // The size told at the end may come before the last bytes reach the file.
      const gz = gzipSync(tar);
      writeFileSync(path.join(dir, 'late'), gz.subarray(0, 10));
      const late = pool.follow(path.join(dir, 'late'), 10, {});
      const result = late.end(gz.length);
      await writeFollowed('late', gz.subarray(10), 500_000, (bytes) => late.grow(10 + bytes));
      assert.equal((await result).diffId, sha256(tar));
    } finally {
      await pool.close();
    }
  });

  it('a followed bomb is refused from the bytes written so far; an abandoned one is refused with why', async () => {
    const pool = new LayerAnalysisPool(1);
    try {
      // 64 MiB of zeros in about 64 KiB, then 2 MiB of random bytes stored as they are: more than one read.
      const random = gzipSync(randomBytes(1 << 20), { level: 0 });
      const bomb = Buffer.concat([gzipSync(Buffer.concat([rawEntry({ name: 'zeros', size: 96 << 20 }), Buffer.alloc(64 << 20)]), { level: 9 }), random, random]);
      writeFileSync(path.join(dir, 'bomb'), bomb);
      const followed = pool.follow(path.join(dir, 'bomb'), bomb.length, { maxBytes: 1_000_000 });
      // Said to be far longer than written: only a refusal from what is there settles it.
      await assert.rejects(followed.end(bomb.length * 100), (err: Error) => err instanceof InvalidArgumentError && /more than 1000000 bytes/.test(err.message));

      writeFileSync(path.join(dir, 'abandoned'), gzipSync(tar).subarray(0, 1000));
      const abandoned = pool.follow(path.join(dir, 'abandoned'), 1000, {});
      abandoned.abort();
      await assert.rejects(abandoned.end(2000), /abandoned/);
      // The worker goes on.
      assert.equal((await pool.analyze(file('after-follow.gz', gzipSync(tar)), {})).diffId, sha256(tar));
    } finally {
      await pool.close();
    }
  });

  it('close refuses a streamed analysis still running', async () => {
    const pool = new LayerAnalysisPool(1);
    const stream = pool.open({});
    await stream.write(gzipSync(tar).subarray(0, 1000));
    await pool.close();
    await assert.rejects(stream.end(), /closed/);
  });

  it('close refuses what is still running', async () => {
    const pool = new LayerAnalysisPool(1);
    const refused = assert.rejects(pool.analyze(file('slow.gz', gzipZeroLayer(200_000_000)), {}), /closed/);
    await pool.close();
    await refused;
  });
});
