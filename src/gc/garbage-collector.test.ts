import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { tempStore } from '../archive/testing/archive-builder.js';
import { ContentReader } from '../content/content-reader.js';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.js';
import { ContentGate, GarbageCollector } from './garbage-collector.js';
import { Leases } from './leases.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('ContentGate', () => {
  it('a sweep waits for the reads in progress, and reads that come later wait for it', async () => {
    const gate = new ContentGate();
    const log: string[] = [];
    const firstRead = deferred();
    const r1 = gate.reading(async () => {
      log.push('read1 start');
      await firstRead.promise;
      log.push('read1 end');
    });
    const sweep = gate.sweep(async () => {
      log.push('sweep');
    });
    await tick();
    const r2 = gate.reading(() => {
      log.push('read2');
    });
    await tick();
    assert.deepEqual(log, ['read1 start'], 'the sweep waits; a new read queues behind it');
    firstRead.resolve();
    await Promise.all([r1, sweep, r2]);
    assert.deepEqual(log, ['read1 start', 'read1 end', 'sweep', 'read2']);
    assert.ok(gate.idle);
  });

  it('reads run together; a read inside a read does not wait for a queued sweep', async () => {
    const gate = new ContentGate();
    const hold = deferred();
    let concurrent = 0;
    let most = 0;
    const reads = [1, 2, 3].map(() =>
      gate.reading(async () => {
        most = Math.max(most, ++concurrent);
        await hold.promise;
        concurrent--;
      }),
    );
    await tick();
    assert.equal(most, 3);
    const sweep = gate.sweep(async () => undefined);
    const nested = gate.reading(async (section) => {
      await gate.reading(async () => tick());
      // After an await the gate no longer knows whose read this is: the section says it.
      await gate.reading(async () => tick(), section);
      return 'nested done';
    });
    hold.resolve();
    await Promise.all(reads);
    await sweep;
    assert.equal(await nested, 'nested done');
    assert.ok(gate.idle);
  });

  it('a section that has ended admits no nested read', async () => {
    const gate = new ContentGate();
    const section = await gate.reading((s) => s);
    assert.equal(section.open, false);
    await assert.rejects(gate.reading(async () => undefined, section), /needs an open read section/);
    assert.ok(gate.idle);
  });

  it('a sweep inside a read is a programming error, not a deadlock', async () => {
    const gate = new ContentGate();
    await assert.rejects(
      gate.reading(() => gate.sweep(async () => undefined)),
      /garbage collection cannot run inside a content read/,
    );
    assert.ok(gate.idle);
  });

  it('sweeps run one at a time, readers that waited go between them', async () => {
    const gate = new ContentGate();
    const log: string[] = [];
    const hold = deferred();
    const s1 = gate.sweep(async () => {
      log.push('s1');
      await hold.promise;
    });
    const s2 = gate.sweep(async () => {
      log.push('s2');
    });
    const r = gate.reading(() => {
      log.push('r');
    });
    await tick();
    hold.resolve();
    await Promise.all([s1, s2, r]);
    assert.deepEqual(log, ['s1', 'r', 's2']);
  });
});

// The collector over the stores (leases, names, shared layers, detached manifests, commits racing
// sweeps) is checked for every implementation by testing/gc-conformance.ts.

describe('GarbageCollector.leasingStore', () => {
  it("a writer leased for a load still offers its file to follow, so the load's analysis reads a layer as it is written", async () => {
    const { store, root, cleanup } = await tempStore();
    const metadata = new SqliteMetadataStore(path.join(root, 'metadata.db'));
    try {
      const gc = new GarbageCollector(store, metadata, new ContentReader(store), new Leases());
      const held: string[] = [];
      const writer = await gc.leasingStore(held).openWriter();
      assert.ok(writer.follow, 'follow is passed through');
      const seen: number[] = [];
      const { file, written } = writer.follow((bytes) => seen.push(bytes));
      assert.equal(written, 0);
      assert.ok(existsSync(file), 'the file being written');
      await writer.write(Buffer.from('layer bytes'));
      const info = await writer.commit();
      assert.equal(seen.at(-1), 11, 'told how far the file is written');
      assert.deepEqual(held, [info.digest], 'and the commit leases the blob');
    } finally {
      await metadata.close();
      cleanup();
    }
  });
});
