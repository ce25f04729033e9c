import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TarFormatError } from './tar-block-walker.js';
import { TarSizeCounter } from './tar-size-counter.js';
import { padToBlock, paxRecord, rawHeader } from './testing/tar-blocks.js';
import { buildTar } from '../archive/testing/archive-builder.js';

function count(data: Buffer, chunkSize = data.length): number {
  const counter = new TarSizeCounter();
  for (let i = 0; i < data.length; i += chunkSize) counter.update(data.subarray(i, i + chunkSize));
  return counter.finish();
}

describe('TarSizeCounter', () => {
  it('sums regular files only, whatever the chunking', async () => {
    const tar = await buildTar([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/hostname', data: 'lading\n' },
      { name: 'bin/tool', data: Buffer.alloc(70_000, 1) },
      { name: 'bin/alias', type: 'symlink', linkname: 'tool' },
      { name: 'bin/hard', type: 'link', linkname: 'bin/tool' },
      { name: 'empty', data: '' },
      { name: 'x'.repeat(150) + '/long-name-file', data: 'abc' },
    ]);
    const expected = 7 + 70_000 + 3;
    for (const size of [1, 511, 512, 513, 4096, tar.length]) assert.equal(count(tar, size), expected, `chunks of ${size}`);
  });

  it('takes the size from a PAX record over the header field', () => {
    const data = Buffer.from('twelve bytes');
    const pax = Buffer.from(paxRecord('size', String(data.length)) + paxRecord('path', 'a/b'));
    const tar = Buffer.concat([
      rawHeader('PaxHeaders/b', 'x', pax.length),
      padToBlock(pax),
      rawHeader('b', '0', 0),
      padToBlock(data),
      Buffer.alloc(1024),
    ]);
    assert.equal(count(tar, 100), 12);
  });

  it('reads base-256 size fields', () => {
    const field = Buffer.alloc(12);
    field[0] = 0x80;
    field.writeUInt32BE(1000, 8);
    const tar = Buffer.concat([rawHeader('big', '0', field), padToBlock(Buffer.alloc(1000)), Buffer.alloc(1024)]);
    assert.equal(count(tar), 1000);
  });

  it('gives header-only types no data, as Go does', () => {
    // A directory whose size field claims data: nothing follows it but the next header.
    const tar = Buffer.concat([rawHeader('dir/', '5', 4096), rawHeader('f', '0', 5), padToBlock(Buffer.from('hello')), Buffer.alloc(1024)]);
    assert.equal(count(tar), 5);
  });

  it('accepts V7 headers and ignores what follows the end marker', () => {
    const tar = Buffer.concat([rawHeader('v7file', '\0', 4, ''), padToBlock(Buffer.from('data')), Buffer.alloc(1024), Buffer.from('junk')]);
    assert.equal(count(tar), 4);
  });

  it('counts an empty stream and a stream without end marker', () => {
    assert.equal(count(Buffer.alloc(0)), 0);
    assert.equal(count(Buffer.concat([rawHeader('f', '0', 2), padToBlock(Buffer.from('hi'))])), 2);
  });

  it('rejects a bad checksum', () => {
    const block = rawHeader('f', '0', 0);
    block[0] = 0x41; // changes the sum
    assert.throws(() => count(block), TarFormatError);
  });

  it('rejects data cut inside a file or a header', async () => {
    const tar = await buildTar([{ name: 'f', data: Buffer.alloc(2000, 7) }]);
    assert.throws(() => count(tar.subarray(0, 1200)), /unexpected end of tar data/);
    assert.throws(() => count(tar.subarray(0, 100)), /unexpected end of tar data/);
  });
});
