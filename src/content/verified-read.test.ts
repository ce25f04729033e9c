import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { hexOf } from '../oci/digest.js';
import { BlobCorruptError } from './content-store.js';
import { FsContentStore } from './fs-content-store.js';

const root = mkdtempSync(path.join(tmpdir(), 'lading-verified-read-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Flips one byte of a stored blob, as a failing disk would. */
function damage(digest: string, at: number): void {
  const file = path.join(root, 'blobs', 'sha256', hexOf(digest));
  const bytes = readFileSync(file);
  bytes[at] = bytes[at]! ^ 0x01;
  chmodSync(file, 0o644);
  writeFileSync(file, bytes);
}

describe('reads from the store are verified', () => {
  it('streams a sound blob whole, and never all of one whose bytes changed', async () => {
    const store = new FsContentStore(root);
    await store.init();
    const data = randomBytes(300 * 1024);
    const { digest } = await store.writeBytes(data);
    const chunks: Buffer[] = [];
    for await (const chunk of store.createReadStream(digest)) chunks.push(chunk as Buffer);
    assert.deepEqual(Buffer.concat(chunks), data);

    damage(digest, data.length - 1);
    let received = 0;
    await assert.rejects(
      (async () => {
        for await (const chunk of store.createReadStream(digest)) received += (chunk as Buffer).length;
      })(),
      (err: unknown) => err instanceof BlobCorruptError && err.digest === digest && err.kind === 'data-loss',
    );
    assert.ok(received < data.length, `${received} of ${data.length} bytes went out`);
  });

  it('refuses a small blob read whole whose bytes changed', async () => {
    const store = new FsContentStore(root);
    const { digest } = await store.writeBytes(Buffer.from('{"architecture":"amd64","os":"linux"}'));
    assert.equal((await store.readBytes(digest)).toString(), '{"architecture":"amd64","os":"linux"}');
    damage(digest, 3);
    await assert.rejects(store.readBytes(digest), {
      name: 'BlobCorruptError',
      message: new RegExp(`^content ${digest} is corrupt in the store \\(its bytes hash to sha256:[0-9a-f]{64}\\)`),
    });
  });

  it('reports a blob that vanished as not there, not as corrupt', async () => {
    const store = new FsContentStore(root);
    const { digest } = await store.writeBytes(Buffer.from('gone soon'));
    await store.delete(digest);
    await assert.rejects(
      (async () => {
        for await (const _ of store.createReadStream(digest)) void _;
      })(),
      { code: 'ENOENT' },
    );
  });
});
