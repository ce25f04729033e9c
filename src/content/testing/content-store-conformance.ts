/**
 * Conformance suite of ContentStore, after containerd's content/testsuite: written once, run
 * against every implementation (fs-content-conformance.test.ts; a registry-backed tier next). What it
 * checks is what the importer, the puller, save, push and garbage collection rely on.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { InvalidArgumentError, NotFoundError } from '../../errors.js';
import { digestOf } from '../../oci/digest.js';
import { runConformance, type ConformanceCheck, type HarnessFactory } from '../../util/conformance.js';
import { BlobCorruptError, DigestMismatchError, type BlobInfo, type ContentStore } from '../content-store.js';

export interface ContentStoreUnderTest {
  content: ContentStore;
  /** Changes a committed blob's stored bytes behind the store's back (same size), as a failing disk would. */
  corrupt(digest: string): Promise<void>;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function listed(content: ContentStore): Promise<BlobInfo[]> {
  const all: BlobInfo[] = [];
  for await (const info of content.list()) all.push(info);
  return all.sort((a, b) => (a.digest < b.digest ? -1 : 1));
}

/** What a failed or aborted write must leave: no blob, nothing in ingest. */
async function leftNothing(content: ContentStore, digest: string): Promise<void> {
  assert.equal(await content.has(digest), false, 'no blob');
  assert.deepEqual(await listed(content), [], 'nothing listed');
  assert.equal(await content.cleanIngest(), 0, 'nothing left in ingest');
}

async function write(content: ContentStore, chunks: Uint8Array[], expected?: Partial<BlobInfo>): Promise<BlobInfo> {
  const writer = await content.openWriter();
  try {
    for (const chunk of chunks) await writer.write(chunk);
    return await writer.commit(expected);
  } finally {
    await writer.abort();
  }
}

const hello = Buffer.from('hello, conformance');

export const contentStoreChecks: Array<ConformanceCheck<ContentStoreUnderTest>> = [
  {
    name: 'a committed blob reads back by its digest: info, has, readBytes, stream, list',
    async run({ content }) {
      const info = await write(content, [hello.subarray(0, 5), hello.subarray(5)]);
      assert.deepEqual(info, { digest: digestOf(hello), size: hello.length });
      assert.deepEqual(await content.info(info.digest), info);
      assert.equal(await content.has(info.digest), true);
      assert.deepEqual(await content.readBytes(info.digest), hello);
      assert.deepEqual(await readAll(content.createReadStream(info.digest)), hello);
      assert.deepEqual(await listed(content), [info]);
    },
  },
  {
    name: 'an absent blob: info undefined, has false, readBytes and streams NotFound or fail, delete false',
    async run({ content }) {
      const absent = digestOf('absent');
      assert.equal(await content.info(absent), undefined);
      assert.equal(await content.has(absent), false);
      await assert.rejects(content.readBytes(absent), NotFoundError);
      await assert.rejects(readAll(content.createReadStream(absent)));
      assert.equal(await content.delete(absent), false);
    },
  },
  {
    name: 'a digest that is not one is an InvalidArgumentError',
    async run({ content }) {
      for (const bad of ['sha256:xyz', '../../etc/passwd', `sha256:${'A'.repeat(64)}`]) {
        await assert.rejects(async () => content.info(bad), InvalidArgumentError, bad);
        await assert.rejects(async () => content.readBytes(bad), InvalidArgumentError, bad);
        await assert.rejects(async () => content.delete(bad), InvalidArgumentError, bad);
      }
    },
  },
  {
    name: 'commit checks the digest: a mismatch is a DigestMismatchError and leaves nothing',
    async run({ content }) {
      const wrong = digestOf('something else');
      await assert.rejects(write(content, [hello], { digest: wrong }), (err: unknown) => {
        assert.ok(err instanceof DigestMismatchError);
        assert.equal(err.expected, wrong);
        assert.equal(err.actual, digestOf(hello));
        return true;
      });
      await leftNothing(content, digestOf(hello));
      await leftNothing(content, wrong);
    },
  },
  {
    name: 'commit checks the size: a mismatch is an InvalidArgumentError and leaves nothing',
    async run({ content }) {
      for (const size of [hello.length - 1, hello.length + 1]) {
        await assert.rejects(write(content, [hello], { digest: digestOf(hello), size }), InvalidArgumentError, `size ${size}`);
        await assert.rejects(write(content, [hello], { size }), InvalidArgumentError, `size ${size} alone`);
        await leftNothing(content, digestOf(hello));
      }
      assert.deepEqual(await write(content, [hello], { digest: digestOf(hello), size: hello.length }), { digest: digestOf(hello), size: hello.length });
    },
  },
  {
    name: 'abort leaves nothing; abort after commit or twice is harmless; a write after it fails',
    async run({ content }) {
      const writer = await content.openWriter();
      await writer.write(hello);
      assert.equal(writer.written, hello.length);
      await writer.abort();
      await writer.abort();
      await assert.rejects(writer.write(hello));
      await leftNothing(content, digestOf(hello));
      const committed = await content.openWriter();
      await committed.write(hello);
      await committed.commit();
      await committed.abort();
      assert.equal(await content.has(digestOf(hello)), true, 'abort after commit keeps the blob');
    },
  },
  {
    name: 'the empty blob commits',
    async run({ content }) {
      assert.deepEqual(await write(content, []), { digest: digestOf(''), size: 0 });
      assert.deepEqual(await content.readBytes(digestOf('')), Buffer.alloc(0));
    },
  },
  {
    name: 'a blob larger than the write queue, in many chunks, arrives whole',
    async run({ content }) {
      const data = randomBytes(9 * 1024 * 1024 + 7);
      const chunks: Buffer[] = [];
      for (let at = 0; at < data.length; at += 65_536) chunks.push(data.subarray(at, at + 65_536));
      const info = await write(content, chunks, { digest: digestOf(data), size: data.length });
      assert.equal(info.size, data.length);
      assert.ok((await readAll(content.createReadStream(info.digest))).equals(data));
    },
  },
  {
    name: 'concurrent writers of the same blob both succeed, and one blob results',
    async run({ content }) {
      const [a, b] = [await content.openWriter(), await content.openWriter()];
      await a.write(hello.subarray(0, 3));
      await b.write(hello.subarray(0, 7));
      await a.write(hello.subarray(3));
      await b.write(hello.subarray(7));
      const infos = await Promise.all([a.commit({ digest: digestOf(hello) }), b.commit({ digest: digestOf(hello) })]);
      assert.deepEqual(infos, [{ digest: digestOf(hello), size: hello.length }, { digest: digestOf(hello), size: hello.length }]);
      assert.deepEqual(await listed(content), [infos[0]]);
      assert.deepEqual(await content.readBytes(digestOf(hello)), hello);
      assert.equal(await content.cleanIngest(), 0, 'no copy left in ingest');
    },
  },
  {
    name: 'concurrent writers of different blobs all land',
    async run({ content }) {
      const blobs = Array.from({ length: 12 }, (_, i) => Buffer.from(`blob ${i} `.repeat(i + 1)));
      const infos = await Promise.all(blobs.map((b) => write(content, [b.subarray(0, 4), b.subarray(4)], { digest: digestOf(b) })));
      assert.deepEqual(await listed(content), [...infos].sort((a, b) => (a.digest < b.digest ? -1 : 1)));
    },
  },
  {
    name: 'writeBytes verifies what it is told to expect',
    async run({ content }) {
      await assert.rejects(content.writeBytes(hello, { digest: digestOf('other') }), DigestMismatchError);
      await assert.rejects(content.writeBytes(hello, { size: 1 }), InvalidArgumentError);
      await leftNothing(content, digestOf(hello));
      assert.deepEqual(await content.writeBytes(hello, { digest: digestOf(hello) }), { digest: digestOf(hello), size: hello.length });
    },
  },
  {
    name: 'list shows committed blobs only, not writes in progress',
    async run({ content }) {
      const done = await content.writeBytes(hello);
      const pending = await content.openWriter();
      await pending.write(Buffer.from('in progress'));
      assert.deepEqual(await listed(content), [done]);
      assert.equal(await content.has(digestOf('in progress')), false);
      await pending.abort();
    },
  },
  {
    name: 'readBytes refuses a blob larger than maxBytes; one of exactly maxBytes reads',
    async run({ content }) {
      const info = await content.writeBytes(hello);
      await assert.rejects(content.readBytes(info.digest, hello.length - 1), InvalidArgumentError);
      assert.deepEqual(await content.readBytes(info.digest, hello.length), hello);
    },
  },
  {
    name: 'bytes changed on the disk are a BlobCorruptError to readBytes and to a stream, never read whole',
    async run({ content, corrupt }) {
      const data = randomBytes(256 * 1024);
      const info = await content.writeBytes(data);
      await corrupt(info.digest);
      await assert.rejects(content.readBytes(info.digest, data.length), BlobCorruptError);
      let received = 0;
      const stream = content.createReadStream(info.digest);
      await assert.rejects(
        (async () => {
          for await (const chunk of stream) received += (chunk as Buffer).length;
        })(),
        (err: unknown) => err instanceof BlobCorruptError && err.digest === info.digest,
      );
      assert.ok(received < data.length, 'the reader never got all of it');
    },
  },
  {
    name: 'a reader of a blob deleted meanwhile gets all of it or an error, never a short blob',
    async run({ content }) {
      const data = randomBytes(2 * 1024 * 1024);
      for (const when of ['before the first chunk', 'after the first chunk']) {
        const info = await content.writeBytes(data);
        const stream = content.createReadStream(info.digest);
        const reading = (async () => {
          const chunks: Buffer[] = [];
          for await (const chunk of stream) {
            if (chunks.length === 0 && when === 'after the first chunk') await content.delete(info.digest);
            chunks.push(chunk as Buffer);
          }
          return Buffer.concat(chunks);
        })().then((bytes) => bytes, (err: unknown) => err);
        if (when === 'before the first chunk') await content.delete(info.digest);
        const outcome = await reading;
        if (Buffer.isBuffer(outcome)) assert.ok(outcome.equals(data), `${when}: a whole blob`);
        else assert.ok(outcome instanceof Error, `${when}: an error`);
        assert.equal(await content.has(info.digest), false, `${when}: deleted`);
        assert.equal(await content.delete(info.digest), false);
      }
    },
  },
  {
    name: 'a deleted blob is gone from info, has and list, and can be written again',
    async run({ content }) {
      const info = await content.writeBytes(hello);
      assert.equal(await content.delete(info.digest), true);
      assert.equal(await content.info(info.digest), undefined);
      assert.deepEqual(await listed(content), []);
      assert.deepEqual(await content.writeBytes(hello), info);
      assert.equal(await content.has(info.digest), true);
    },
  },
  {
    name: 'cleanIngest removes writes a crash interrupted; they were never visible',
    async run({ content }) {
      const interrupted = await content.openWriter();
      await interrupted.write(hello);
      const kept = await content.writeBytes(Buffer.from('kept'));
      assert.ok((await content.cleanIngest()) >= 1, 'the interrupted write is counted');
      assert.equal(await content.cleanIngest(), 0);
      assert.equal(await content.has(digestOf(hello)), false);
      assert.deepEqual(await listed(content), [kept]);
      await interrupted.abort();
    },
  },
];

export function runContentStoreConformance(name: string, factory: HarnessFactory<ContentStoreUnderTest>): void {
  runConformance(`content store conformance: ${name}`, contentStoreChecks, factory);
}
