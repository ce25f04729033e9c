import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { resolveConfig } from './config.js';
import { parseFlags } from './flags.js';

function file(name: string, doc: unknown): { file: string; dir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'lading-blobopts-'));
  const at = path.join(dir, name);
  writeFileSync(at, JSON.stringify(doc));
  return { file: at, dir };
}

test('no --blob-store: the embedded store; the cache size and credentials need one', () => {
  assert.equal(resolveConfig(parseFlags([]), { HOME: '/h' }).blobStore, undefined);
  assert.throws(() => resolveConfig(parseFlags(['--blob-cache-size', '1g']), { HOME: '/h' }), /--blob-cache-size and --blob-store-auth need --blob-store/);
});

test('--blob-store registry://host[:port]/repository, --blob-cache-size in go-units, 10GiB by default', () => {
  const at = (args: string[]) => resolveConfig(parseFlags(args), { HOME: '/h' }).blobStore;
  assert.deepEqual(at(['--blob-store', 'registry://127.0.0.1:5000/lading/blobs']), {
    location: { host: '127.0.0.1:5000', repository: 'lading/blobs' },
    cacheBytes: 10 * 1024 ** 3,
    auth: {},
  });
  assert.equal(at(['--blob-store=registry://reg.lab/b', '--blob-cache-size', '512MiB'])?.cacheBytes, 512 * 1024 ** 2);
  for (const bad of ['http://reg.lab/b', 'registry://reg.lab', 'registry://reg.lab/', 'registry://reg.lab/Upper']) {
    assert.throws(() => at(['--blob-store', bad]), /invalid blob store .*want registry:\/\/host\[:port\]\/repository/, bad);
  }
  assert.throws(() => parseFlags(['--blob-cache-size', 'lots']), /invalid argument "lots" for "--blob-cache-size" flag/);
});

test('daemon.json blob-store, blob-cache-size, blob-store-auth; a key in both places is refused', () => {
  const auth = file('auth.json', { username: 'u', password: 'p' });
  const { file: json, dir } = file('daemon.json', { 'blob-store': 'registry://reg.lab:5000/blobs', 'blob-cache-size': '1GiB', 'blob-store-auth': auth.file });
  const settings = resolveConfig(parseFlags(['--config-file', json]), { HOME: dir }).blobStore;
  assert.deepEqual(settings, { location: { host: 'reg.lab:5000', repository: 'blobs' }, cacheBytes: 1024 ** 3, auth: { username: 'u', password: 'p' } });
  assert.throws(
    () => resolveConfig(parseFlags(['--config-file', json, '--blob-store', 'registry://other/b']), { HOME: dir }),
    /specified both as a flag and in the configuration file: blob-store: \(from flag: registry:\/\/other\/b, from file: registry:\/\/reg.lab:5000\/blobs\)/,
  );
  assert.throws(() => resolveConfig(parseFlags(['--blob-store', 'registry://r/b', '--blob-store-auth', path.join(dir, 'none.json')]), { HOME: dir }), /blob store credentials .*none.json/);
});
