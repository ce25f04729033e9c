import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTar } from '../archive/testing/archive-builder.js';
import { TarEntryReader, type TarEntry } from './tar-entry-reader.js';

describe('TarEntryReader', () => {
  it('lists headers fed in any chunks: long names, links, directories, modes, sizes', async () => {
    const long = `${'deep/'.repeat(30)}file.txt`;
    const tar = await buildTar([
      { name: 'dir/', type: 'directory', mode: 0o750 },
      { name: 'dir/a', data: 'hello', mode: 0o600 },
      { name: long, data: 'x'.repeat(700) },
      { name: 'dir/link', type: 'symlink', linkname: `../${long}` },
      { name: 'dir/hard', type: 'link', linkname: 'dir/a' },
    ]);
    for (const size of [1, 511, 512, 4096, tar.length]) {
      const entries: TarEntry[] = [];
      const reader = new TarEntryReader((e) => entries.push(e));
      for (let i = 0; i < tar.length; i += size) reader.update(tar.subarray(i, i + size));
      reader.finish();
      assert.deepEqual(entries, [
        { name: 'dir/', type: '5', size: 0, mode: 0o750, linkname: '' },
        { name: 'dir/a', type: '0', size: 5, mode: 0o600, linkname: '' },
        { name: long, type: '0', size: 700, mode: 0o644, linkname: '' },
        { name: 'dir/link', type: '2', size: 0, mode: 0o777, linkname: `../${long}` },
        { name: 'dir/hard', type: '1', size: 0, mode: 0o644, linkname: 'dir/a' },
      ]);
    }
  });

  it('says when the stream stops inside a file', async () => {
    const tar = await buildTar([{ name: 'a', data: 'x'.repeat(2000) }]);
    const reader = new TarEntryReader(() => undefined);
    reader.update(tar.subarray(0, 1000));
    assert.throws(() => reader.finish(), /unexpected end of tar data/);
  });
});
