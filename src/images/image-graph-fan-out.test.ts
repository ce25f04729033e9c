import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chunked } from '../archive/testing/archive-builder.js';
import { fanOutArchive, fanOutImage, type FanOutImage } from '../archive/testing/hostile-archives.js';
import { newService, type ServiceFixture } from './testing/service-fixture.js';

const AMD64 = { architecture: 'amd64', os: 'linux' };

/** Reads a tar stream's entry names (512-byte headers; sizes in octal). */
async function tarNames(stream: NodeJS.ReadableStream): Promise<string[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  const tar = Buffer.concat(chunks);
  const names: string[] = [];
  for (let at = 0; at + 512 <= tar.length; ) {
    const name = tar.subarray(at, at + 100).toString('latin1').replace(/\0.*$/s, '');
    if (name === '') break;
    names.push(name);
    const size = parseInt(tar.subarray(at + 124, at + 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}

// An index listing its child F times at each of D levels is F^D paths to five blobs: every walk
// must visit blobs, not paths. Without that, the first walk below never ends (the timeout fails it).
for (const [fanOut, depth] of [
  [20, 5],
  [50, 7],
] as const) {
  describe(`an image whose indexes list their child ${fanOut} times at ${depth} levels`, { timeout: 60_000 }, () => {
    const name = `docker.io/library/fan${fanOut}x${depth}:1`;
    let fx: ServiceFixture;
    let image: FanOutImage;
    const manifest = (): string => image.blobs[2]!.desc.digest;

    before(async () => {
      fx = await newService();
      image = fanOutImage(fanOut, depth, `${fanOut}x${depth}`);
      const loaded = await fx.images.load(chunked(fanOutArchive(image, name), [65536]));
      assert.deepEqual(
        loaded.map((l) => l.name),
        [`fan${fanOut}x${depth}:1`],
      );
    });
    after(() => fx.cleanup());

    it('inspect lists the platform manifest once and counts its size once', async () => {
      const doc = await fx.images.inspect(name, { manifests: true });
      assert.deepEqual(
        doc.manifests?.map((m) => m.id),
        [manifest()],
      );
      assert.equal(doc.architecture, 'amd64');
      const [layer, config, mf] = image.blobs;
      // Docker 28's Size: the target, one child per index, then the manifest's config and layers.
      const indexes = image.blobs.slice(3).reduce((sum, b) => sum + b.desc.size, 0);
      assert.equal(doc.size, indexes + mf!.desc.size + config!.desc.size + layer!.desc.size);
    });

    it('the list and df show one image, its manifest once, its sizes counted once', async () => {
      const [summary, ...more] = await fx.images.list({ all: false, filters: new Map(), sharedSize: true, manifests: true });
      assert.equal(more.length, 0);
      assert.deepEqual(
        summary?.manifests?.map((m) => m.id),
        [manifest()],
      );
      assert.equal(summary?.size, summary?.manifests?.[0]?.totalSize);
      const df = await fx.images.diskUsage();
      assert.equal(df.images.length, 1);
      assert.equal(df.images[0]?.size, summary?.size);
    });

    it('history and save walk each blob once', async () => {
      assert.deepEqual(await fx.images.history(name), []); // its config has no history
      // As containerd's exporter, manifest.json takes the index's first child, here an index: the
      // save fails (as Docker's does), but only once the walk of the whole graph has ended.
      await assert.rejects(fx.images.save([name]), /unable to create manifests file/);
      const names = await tarNames(await fx.images.save([name], { platform: AMD64 }));
      const blobNames = names.filter((n) => /^blobs\/sha256\/[0-9a-f]{64}$/.test(n));
      assert.deepEqual(blobNames.sort(), image.blobs.slice(0, 3).map((b) => `blobs/sha256/${b.desc.digest.slice(7)}`).sort());
    });

    it('a label filter, a platform removal and the removal of the image finish', async () => {
      const labelled = await fx.images.prune(new Map([['label', new Map([['nothing=here', true]])], ['dangling', new Map([['false', true]])]]));
      assert.equal(labelled.ImagesDeleted, null);
      await fx.images.remove(name, { force: true, prune: false, platforms: [AMD64] });
      const removed = await fx.images.remove(name, { force: false, prune: false, platforms: [] });
      assert.ok(removed.some((r) => 'Deleted' in r && r.Deleted === image.top.desc.digest));
      for (const b of image.blobs) assert.equal(await fx.content.has(b.desc.digest), false, `${b.desc.digest} is gone`);
    });
  });
}
