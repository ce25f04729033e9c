import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TarFormatError, TarSizeCounter } from './tar-size-counter.js';
import { buildTar } from '../archive/testing/archive-builder.js';

/** A raw header block; `size` written as octal unless it is a Buffer (a base-256 field). */
function header(name: string, type: string, size: number | Buffer, magic = 'ustar\u000000'): Buffer {
  const block = Buffer.alloc(512);
  block.write(name, 0, 'utf8');
  block.write('0000644\0', 100);
  if (Buffer.isBuffer(size)) size.copy(block, 124);
  else block.write(size.toString(8).padStart(11, '0') + '\0', 124);
  block.write(type, 156, 'latin1');
  block.write(magic, 257, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return block;
}

function padded(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = body.length + 1;
  while (`${length}${body}`.length !== length) length++;
  return `${length}${body}`;
}

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
      header('PaxHeaders/b', 'x', pax.length),
      padded(pax),
      header('b', '0', 0),
      padded(data),
      Buffer.alloc(1024),
    ]);
    assert.equal(count(tar, 100), 12);
  });

  it('reads base-256 size fields', () => {
    const field = Buffer.alloc(12);
    field[0] = 0x80;
    field.writeUInt32BE(1000, 8);
    const tar = Buffer.concat([header('big', '0', field), padded(Buffer.alloc(1000)), Buffer.alloc(1024)]);
    assert.equal(count(tar), 1000);
  });

  it('gives header-only types no data, as Go does', () => {
    // A directory whose size field claims data: nothing follows it but the next header.
    const tar = Buffer.concat([header('dir/', '5', 4096), header('f', '0', 5), padded(Buffer.from('hello')), Buffer.alloc(1024)]);
    assert.equal(count(tar), 5);
  });

  it('accepts V7 headers and ignores what follows the end marker', () => {
    const tar = Buffer.concat([header('v7file', '\0', 4, ''), padded(Buffer.from('data')), Buffer.alloc(1024), Buffer.from('junk')]);
    assert.equal(count(tar), 4);
  });

  it('counts an empty stream and a stream without end marker', () => {
    assert.equal(count(Buffer.alloc(0)), 0);
    assert.equal(count(Buffer.concat([header('f', '0', 2), padded(Buffer.from('hi'))])), 2);
  });

  it('rejects a bad checksum', () => {
    const block = header('f', '0', 0);
    block[0] = 0x41; // changes the sum
    assert.throws(() => count(block), TarFormatError);
  });

  it('rejects data cut inside a file or a header', async () => {
    const tar = await buildTar([{ name: 'f', data: Buffer.alloc(2000, 7) }]);
    assert.throws(() => count(tar.subarray(0, 1200)), /unexpected end of tar data/);
    assert.throws(() => count(tar.subarray(0, 100)), /unexpected end of tar data/);
  });
});
