import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TarFormatError } from './tar-block-walker.js';
import { TarEntryReader, type TarEntry } from './tar-entry-reader.js';
import { TarSizeCounter } from './tar-size-counter.js';
import { padToBlock, paxRecord, rawHeader } from './testing/tar-blocks.js';

function special(type: string, data: Buffer): Buffer {
  return Buffer.concat([rawHeader('././@LongLink', type, data.length), padToBlock(data)]);
}

function readBoth(tar: Buffer): { total: number; entries: TarEntry[] } {
  const counter = new TarSizeCounter();
  const entries: TarEntry[] = [];
  const reader = new TarEntryReader((entry) => entries.push(entry));
  for (let i = 0; i < tar.length; i += 100) {
    counter.update(tar.subarray(i, i + 100));
    reader.update(tar.subarray(i, i + 100));
  }
  reader.finish();
  return { total: counter.finish(), entries };
}

describe('TarBlockWalker: the special headers each reader collects', () => {
  it('gives GNU long names to the entry reader only, and a global PAX header to neither', () => {
    const longName = `${'d/'.repeat(80)}file`;
    const tar = Buffer.concat([
      // Go's reader applies a global header to nothing: its size and path must not reach the file.
      special('g', Buffer.from(paxRecord('size', '999') + paxRecord('path', 'global'))),
      special('L', Buffer.from(`${longName}\0`)),
      special('K', Buffer.from('target\0')),
      rawHeader('short', '0', 5),
      padToBlock(Buffer.from('hello')),
      special('x', Buffer.from(paxRecord('size', '3') + paxRecord('path', 'pax-name'))),
      rawHeader('ignored', '0', 0),
      padToBlock(Buffer.from('abc')),
      Buffer.alloc(1024),
    ]);
    const { total, entries } = readBoth(tar);
    assert.equal(total, 8);
    assert.deepEqual(
      entries.map((e) => [e.name, e.size]),
      [
        [longName, 5],
        ['pax-name', 3],
      ],
    );
  });

  it('refuses a special header over 1 MiB in both readers, collected or not', () => {
    for (const type of ['x', 'g', 'L', 'K']) {
      const tar = Buffer.concat([rawHeader('big', type, 1024 * 1024 + 1), Buffer.alloc(4096)]);
      assert.throws(() => new TarSizeCounter().update(tar), TarFormatError, `counter, type ${type}`);
      assert.throws(() => new TarEntryReader(() => undefined).update(tar), /tar header of type . exceeds 1 MiB/, `reader, type ${type}`);
    }
  });
});
