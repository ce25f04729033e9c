import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlobTotals } from './blob-totals.js';

describe('BlobTotals', () => {
  it('walks the store at most once per interval, shares a walk in progress, and keeps the last count when a walk fails', async () => {
    let walks = 0;
    let fail = false;
    let blobs = [{ size: 10 }, { size: 32 }];
    let clock = 0;
    const totals = new BlobTotals(
      async function* () {
        walks++;
        await new Promise((r) => setImmediate(r));
        if (fail) throw new Error('registry down');
        yield* blobs;
      },
      30_000,
      () => clock,
    );
    const [a, b] = await Promise.all([totals.read(), totals.read()]);
    assert.deepEqual(a, { blobs: 2, bytes: 42 });
    assert.deepEqual(b, a);
    assert.equal(walks, 1);

    blobs = [{ size: 5 }];
    clock = 29_999;
    assert.deepEqual(await totals.read(), { blobs: 2, bytes: 42 });
    assert.equal(walks, 1);

    clock = 30_000;
    assert.deepEqual(await totals.read(), { blobs: 1, bytes: 5 });
    assert.equal(walks, 2);

    fail = true;
    clock = 60_000;
    assert.deepEqual(await totals.read(), { blobs: 1, bytes: 5 });
    assert.equal(walks, 3);
  });

  it('fails the first count when the store cannot be listed', async () => {
    const totals = new BlobTotals(
      // eslint-disable-next-line require-yield
      async function* () {
        throw new Error('registry down');
      },
      1000,
    );
    await assert.rejects(totals.read(), /registry down/);
  });
});
