import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import tar from 'tar-stream';
import { LadingError } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import { chunked } from '../archive/testing/archive-builder.js';
import { buildImage, imageBlobs, imageEntries, named, type BuiltImage, type BuiltIndex } from '../archive/testing/sample-images.js';
import { loadLayout, newService, sampleService, type SampleService } from './testing/service-fixture.js';

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

async function files(data: Buffer): Promise<Map<string, Buffer>> {
  const extract = tar.extract();
  const out = new Map<string, Buffer>();
  const done = (async () => {
    for await (const entry of extract) {
      const parts: Buffer[] = [];
      for await (const chunk of entry) parts.push(chunk as Buffer);
      if (entry.header.type === 'file') out.set(entry.header.name, Buffer.concat(parts));
    }
  })();
  extract.end(data);
  await done;
  return out;
}

interface Archive {
  index: Descriptor[];
  manifest: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }>;
  files: Map<string, Buffer>;
  data: Buffer;
}

describe('ImageService.save', () => {
  let fx: SampleService;
  let app: BuiltImage;
  let multi: BuiltIndex;

  before(async () => {
    fx = await sampleService([
      'docker.io/library/app:2',
      'docker.io/library/app:1',
      'docker.io/library/app@sha256:' + '0'.repeat(64),
      'registry.example:5000/library/app:3',
    ]);
    ({ app, multi } = fx);
  });
  after(() => fx?.cleanup());

  async function save(names: string[], platform?: { os: string; architecture: string }): Promise<Archive> {
    const data = await readAll(await fx.images.save(names, platform ? { platform } : {}));
    const f = await files(data);
    return {
      index: (JSON.parse(f.get('index.json')!.toString()) as { manifests: Descriptor[] }).manifests,
      manifest: JSON.parse(f.get('manifest.json')?.toString() ?? 'null') as Archive['manifest'],
      files: f,
      data,
    };
  }

  const nameOf = (d: Descriptor): string | undefined => d.annotations?.['io.containerd.image.name'];

  it('repo:tag exports that name; a save event names the target digest, with the image labels', async () => {
    const before = fx.images.events.history().length;
    const archive = await save(['app:1']);
    assert.deepEqual(archive.index.map(nameOf), ['docker.io/library/app:1']);
    assert.deepEqual(archive.manifest.map((m) => m.RepoTags), [['app:1']]);
    const events = fx.images.events.history().slice(before);
    assert.deepEqual(
      events.map((e) => [e.action, e.actor.id, e.actor.attributes]),
      [['save', app.manifest.desc.digest, { 'com.example.marker': 'app', name: app.manifest.desc.digest }]],
    );
  });

  it('a bare repository exports each of its tags, in name order, and nothing of other repositories', async () => {
    const archive = await save(['app']);
    assert.deepEqual(archive.index.map(nameOf), ['docker.io/library/app:1', 'docker.io/library/app:2']);
    assert.deepEqual(archive.manifest.map((m) => m.RepoTags), [['app:1', 'app:2']]);
  });

  it('an ID, a short ID or a digest reference exports the image without a name', async () => {
    for (const ref of [app.manifest.desc.digest, app.manifest.desc.digest.slice(7, 19), `app@${app.manifest.desc.digest}`]) {
      const archive = await save([ref]);
      assert.deepEqual(archive.index, [{ mediaType: app.manifest.desc.mediaType, digest: app.manifest.desc.digest, size: app.manifest.desc.size }], ref);
      assert.deepEqual(archive.manifest.map((m) => m.RepoTags), [null], ref);
    }
  });

  it("several names, as given; Lading's importer and a fresh service read the archive back", async () => {
    const archive = await save(['multi:1', 'registry.example:5000/library/app:3']);
    assert.deepEqual(archive.index.map(nameOf), ['docker.io/library/multi:1', 'registry.example:5000/library/app:3']);
    const fresh = await newService();
    try {
      const loaded = await fresh.images.load(chunked(archive.data));
      assert.deepEqual(loaded, [
        { name: 'multi:1', tagged: true },
        { name: 'registry.example:5000/library/app:3', tagged: true },
      ]);
      const inspected = await fresh.images.inspect('multi:1', { manifests: true });
      assert.equal(inspected.id, multi.index.desc.digest);
      assert.deepEqual(inspected.manifests?.map((m) => m.available), [true, true, true]);
      assert.equal((await fresh.images.inspect('registry.example:5000/library/app:3', { manifests: false })).id, app.manifest.desc.digest);
    } finally {
      fresh.cleanup();
    }
  });

  it('a platform: that manifest alone, named, its platform kept; absent or unknown platforms are 404', async () => {
    const arm = await save(['multi:1'], { os: 'linux', architecture: 'arm64' });
    assert.deepEqual(arm.index, [named(multi.arm64.entry, 'docker.io/library/multi:1')]);
    assert.ok(!arm.files.has(`blobs/sha256/${multi.index.desc.digest.slice(7)}`));
    await assert.rejects(fx.images.save(['partial:1'], { platform: { os: 'linux', architecture: 'arm64' } }), {
      message: 'no suitable export target found: image with reference partial:1 was found but does not provide the specified platform (linux/arm64)',
    });
    await assert.rejects(fx.images.save(['app:1'], { platform: { os: 'linux', architecture: 's390x' } }), {
      message: 'no suitable export target found: image with reference app:1 was found but does not provide the specified platform (linux/s390x)',
    });
  });

  it('missing images fail before any byte, with the texts Docker gives', async () => {
    await assert.rejects(fx.images.save(['nosuch']), { message: 'No such image: nosuch:latest' });
    await assert.rejects(fx.images.save(['nosuch:2']), { message: 'No such image: nosuch:2' });
    await assert.rejects(fx.images.save(['app:9']), { message: 'No such image: app:9' });
    await assert.rejects(fx.images.save(['app:1', 'nosuch']), { message: 'No such image: nosuch:latest' });
    // A full ID without its algorithm resolves, but is no repository name: Docker fails on that.
    await assert.rejects(fx.images.save([app.manifest.desc.digest.slice(7)]), (err: unknown) => {
      assert.ok(err instanceof LadingError && err.kind === 'internal');
      assert.equal(err.message, `invalid repository name (${app.manifest.desc.digest.slice(7)}), cannot specify 64-byte hexadecimal strings`);
      return true;
    });
  });

  it('the blobs stay while the archive streams, even when the image is removed meanwhile', async () => {
    const img = await buildImage({ architecture: 'amd64', os: 'linux' }, 'leased');
    await loadLayout(fx.images, imageEntries(img), [named(img.manifest.desc, 'docker.io/library/leased:1')]);
    const digests = imageBlobs(img).map((b) => b.desc.digest);
    const stream = await fx.images.save(['leased:1']);
    await fx.images.metadata.deleteImage('docker.io/library/leased:1');
    assert.deepEqual(await fx.images.collectGarbage(digests), [], 'held by the save');
    const archive = await files(await readAll(stream));
    for (const b of imageBlobs(img)) assert.deepEqual(archive.get(`blobs/sha256/${b.desc.digest.slice(7)}`), b.data);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual((await fx.images.collectGarbage(digests)).sort(), [...digests].sort(), 'released when it closed');
  });
});
