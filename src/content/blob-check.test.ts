import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { digestOf, hexOf } from '../oci/digest.js';
import { ingestLeftovers, scanBlobs, verifyBlobs } from './blob-check.js';
import { FsContentStore } from './fs-content-store.js';

const root = mkdtempSync(path.join(tmpdir(), 'lading-blob-check-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('blob check', () => {
  it('hashes every blob against its name and names everything else under blobs/', async () => {
    const store = new FsContentStore(root);
    await store.init();
    const good = await store.writeBytes(Buffer.from('good'));
    const bad = await store.writeBytes(Buffer.from('will be damaged'));
    const dir = path.join(root, 'blobs', 'sha256');
    writeFileSync(path.join(dir, hexOf(bad.digest)), 'damaged');
    mkdirSync(path.join(dir, 'a-dir'));
    symlinkSync(path.join(dir, hexOf(good.digest)), path.join(dir, 'f'.repeat(64)));
    mkdirSync(path.join(root, 'blobs', 'sha512'));
    writeFileSync(path.join(root, 'ingest', 'x1'), 'partial');

    const findings = await scanBlobs(root, { concurrency: 2 });
    const byKey = new Map(findings.map((f) => [f.kind === 'stray' ? path.relative(root, f.file) : f.digest, f]));
    assert.deepEqual(byKey.get(good.digest), { kind: 'ok', digest: good.digest, size: 4 });
    assert.deepEqual(byKey.get(bad.digest), {
      kind: 'corrupt',
      digest: bad.digest,
      size: 7,
      actual: digestOf('damaged'),
    });
    assert.equal(byKey.get('blobs/sha256/a-dir')?.kind, 'stray');
    assert.deepEqual(byKey.get(`blobs/sha256/${'f'.repeat(64)}`), {
      kind: 'stray',
      file: path.join(dir, 'f'.repeat(64)),
      what: 'a symbolic link',
      isFile: false,
    });
    assert.equal(byKey.get('blobs/sha512')?.kind, 'stray');
    assert.equal(findings.length, 5);
    assert.deepEqual(await ingestLeftovers(root), [{ file: path.join(root, 'ingest', 'x1'), size: 7 }]);
  });

  it('reads large blobs through the store', async () => {
    const store = new FsContentStore(path.join(root, 'large'));
    await store.init();
    const big = await store.writeBytes(Buffer.alloc(5 * 1024 * 1024 + 3, 9));
    assert.deepEqual(await verifyBlobs(store), [{ kind: 'ok', digest: big.digest, size: big.size }]);
  });

  it('an absent store is empty', async () => {
    assert.deepEqual(await scanBlobs(path.join(root, 'nothing')), []);
    assert.deepEqual(await ingestLeftovers(path.join(root, 'nothing')), []);
  });
});
