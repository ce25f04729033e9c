import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { decompressIterable, ExpansionError } from './compression.js';

function compress(command: string, data: Buffer): Buffer {
  const res = spawnSync(command, ['-c'], { input: data, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(res.status, 0, String(res.stderr));
  return res.stdout;
}

async function collect(body: Buffer, compression: 'xz' | 'bzip2', maxBytes?: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const source = (async function* () {
    // Small chunks, so the command's stdin sees several writes.
    for (let i = 0; i < body.length; i += 1000) yield body.subarray(i, i + 1000);
  })();
  for await (const chunk of decompressIterable(source, compression, { maxBytes }, 'the body', (m) => new Error(`failed: ${m}`))) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

for (const compression of ['xz', 'bzip2'] as const) {
  describe(`${compression} through the system's command`, () => {
    const plain = Buffer.concat([randomBytes(100_000), Buffer.alloc(300_000, 'a')]);

    it('gives back the bytes compressed', async () => {
      assert.deepEqual(await collect(compress(compression, plain), compression), plain);
    });

    it('fails with the command\'s words on a corrupt stream', async () => {
      const good = compress(compression, plain);
      const bad = Buffer.concat([good.subarray(0, 16), Buffer.alloc(2000, 0x5a)]);
      await assert.rejects(collect(bad, compression), (err: Error) => {
        assert.match(err.message, /^failed: \S/);
        return true;
      });
    });

    it('stops a body that expands past the limit', async () => {
      const bomb = compress(compression, Buffer.alloc(20 * 1024 * 1024));
      await assert.rejects(collect(bomb, compression, 1024 * 1024), (err: unknown) => {
        assert.ok(err instanceof ExpansionError, String(err));
        assert.match(err.message, /the body expands to more than 1048576 bytes/);
        return true;
      });
    });
  });
}
