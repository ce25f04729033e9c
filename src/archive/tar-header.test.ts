import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import tar from 'tar-stream';
import { BLOCK_SIZE, TAR_TRAILER, tarHeader, tarPadding } from './tar-header.js';

/**
 * The first header of a docker-archive written by skopeo 1.9.3 (Go's archive/tar, Header with Name,
 * Mode 0444, Size, Typeflag '0' and ModTime the epoch): what Go's Writer puts in every field.
 */
const GO_HEADER = Buffer.from(
  'Mzc4NzUxZDJjZDRhNWZjYWQ3MTJjYzkyYjFiNGYyZDg5NzU5MzNkMzgxNjg1YTQzOTI2NWQxNjFjMDVmODQwMC50YXIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAADAwMDA0NDQAMDAwMDAwMAAwMDAwMDAwADAwMDA3NDU0MDAwADAwMDAwMDAwMDAwADAyMDIzMwAgMAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB1c3RhcgAwMAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAwMDAwMDAwADAwMDAwMDAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
  'base64',
);

/** The first entry header tar-stream reads from `data` (which may stop right after it). */
async function firstHeader(data: Buffer): Promise<tar.Header> {
  const extract = tar.extract();
  const got = new Promise<tar.Header>((resolve, reject) => {
    extract.on('entry', (header, stream) => {
      resolve(header);
      stream.resume();
      extract.destroy();
    });
    extract.on('error', reject);
  });
  extract.end(data);
  return got;
}

describe('tarHeader', () => {
  it("is byte for byte Go archive/tar's USTAR header", () => {
    const name = '378751d2cd4a5fcad712cc92b1b4f2d8975933d381685a439265d161c05f8400.tar';
    assert.deepEqual(tarHeader(name, 'file', 0o444, 1988608), GO_HEADER);
  });

  it('directories and files read back with their fields', async () => {
    const dir = await firstHeader(Buffer.concat([tarHeader('blobs/sha256/', 'directory', 0o755, 0), TAR_TRAILER]));
    assert.equal(dir.name, 'blobs/sha256/');
    assert.equal(dir.type, 'directory');
    assert.equal(dir.mode, 0o755);
    const file = await firstHeader(Buffer.concat([tarHeader('index.json', 'file', 0o644, 3), Buffer.from('{}\n'), tarPadding(3), TAR_TRAILER]));
    assert.deepEqual([file.name, file.type, file.mode, file.size, file.mtime?.getTime()], ['index.json', 'file', 0o644, 3, 0]);
  });

  it('a size beyond 11 octal digits goes in a PAX record, the USTAR size left 0', async () => {
    const size = 9 * 1024 ** 3;
    const name = `blobs/sha256/${'a'.repeat(64)}`;
    const header = tarHeader(name, 'file', 0o444, size);
    assert.equal(header.length, 3 * BLOCK_SIZE);
    assert.equal(header.subarray(0, 100).toString('latin1').replace(/\0+$/, ''), `blobs/sha256/PaxHeaders.0/${'a'.repeat(64)}`);
    assert.equal(header[156], 'x'.charCodeAt(0));
    assert.equal(header.subarray(512, 512 + 20).toString('latin1'), '19 size=9663676416\n\0');
    assert.equal(header.subarray(1024 + 124, 1024 + 136).toString('latin1'), '00000000000\0');
    const parsed = await firstHeader(header);
    assert.deepEqual([parsed.name, parsed.size], [name, size]);
  });

  it('a long name is split at a slash into prefix and name, as USTAR allows', async () => {
    const name = `${'d'.repeat(60)}/${'e'.repeat(60)}/file`;
    const header = tarHeader(name, 'file', 0o444, 0);
    assert.equal(header.length, BLOCK_SIZE);
    assert.equal((await firstHeader(Buffer.concat([header, TAR_TRAILER]))).name, name);
  });

  it('pads data to whole blocks', () => {
    assert.equal(tarPadding(0).length, 0);
    assert.equal(tarPadding(1).length, 511);
    assert.equal(tarPadding(512).length, 0);
    assert.equal(tarPadding(513).length, 511);
  });
});
