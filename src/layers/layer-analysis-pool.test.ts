import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { InvalidArgumentError } from '../errors.js';
import { LayerAnalysisPool } from './layer-analysis-pool.js';
import { buildTar, sha256, zstdStored } from '../archive/testing/archive-builder.js';
import { gzipZeroLayer } from '../archive/testing/hostile-archives.js';

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
    const pool = new LayerAnalysisPool(2);
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

  it('close refuses what is still running', async () => {
    const pool = new LayerAnalysisPool(1);
    const refused = assert.rejects(pool.analyze(file('slow.gz', gzipZeroLayer(200_000_000)), {}), /closed/);
    await pool.close();
    await refused;
  });
});
