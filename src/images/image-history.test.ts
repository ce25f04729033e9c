import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LadingError, NotFoundError } from '../errors.js';
import { hostPlatform } from '../oci/platform.js';
import { historyItems, MISSING_ID, type HistoryItem } from './image-history.js';
import { buildImage, imageEntries, named, type BuiltImage, type BuiltIndex } from '../archive/testing/sample-images.js';
import { loadLayout, sampleService, type SampleService } from './testing/service-fixture.js';

describe('historyItems: config history to entries', () => {
  const entry = (createdBy: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    created: '2025-01-02T03:04:05.999999999Z',
    created_by: createdBy,
    ...extra,
  });

  it('newest first; empty layers are 0 and take no size; all <missing> with null tags', () => {
    const items = historyItems(
      { history: [entry('a'), entry('b', { empty_layer: true, comment: 'env' }), entry('c')] },
      [100, 200],
    );
    assert.deepEqual(
      items.map((i) => [i.createdBy, i.size, i.comment]),
      [
        ['c', 200, ''],
        ['b', 0, 'env'],
        ['a', 100, ''],
      ],
    );
    assert.ok(items.every((i) => i.id === MISSING_ID && i.tags === null));
    assert.equal(items[0]?.created, Date.UTC(2025, 0, 2, 3, 4, 5) / 1000, 'seconds, fraction dropped');
  });

  it('more layers than history entries: the sizes left over are ignored', () => {
    const items = historyItems({ history: [entry('only')] }, [1, 2, 3]);
    assert.deepEqual(items.map((i) => i.size), [1]);
  });

  it('more non-empty entries than layers: Docker fails with its message', () => {
    assert.throws(
      () => historyItems({ history: [entry('a'), entry('b')] }, [1]),
      (err: unknown) => err instanceof LadingError && err.kind === 'internal' && err.message === 'unable to find the size of the layer',
    );
    // Empty entries need no layer.
    assert.equal(historyItems({ history: [entry('a', { empty_layer: true })] }, []).length, 1);
  });

  it('no history: no entries; no or bad created: 0; offsets count', () => {
    assert.deepEqual(historyItems({}, [5]), []);
    const [item] = historyItems({ history: [{ created_by: 'x' }] }, [5]);
    assert.equal(item?.created, 0);
    const [bad] = historyItems({ history: [{ created: 'yesterday' }] }, [5]);
    assert.equal(bad?.created, 0);
    const [zoned] = historyItems({ history: [{ created: '2025-01-01T02:00:00+02:00' }] }, [5]);
    assert.equal(zoned?.created, Date.UTC(2025, 0, 1) / 1000);
    const [before1970] = historyItems({ history: [{ created: '1969-12-31T23:59:59.5Z' }] }, [5]);
    assert.equal(before1970?.created, -1, 'Go rounds toward the past');
  });
});

describe('ImageService.history', () => {
  let fx: SampleService;
  let single: BuiltImage;
  let multi: BuiltIndex;

  before(async () => {
    fx = await sampleService(['docker.io/library/app:1', 'docker.io/library/app:2', 'registry.example:5000/team/app:3']);
    ({ app: single, multi } = fx);
  });
  after(() => fx?.cleanup());

  const view = (items: HistoryItem[]): Array<[string, string, number, string[] | null]> =>
    items.map((i) => [i.id, i.createdBy, i.size, i.tags]);

  it('single platform: sizes are the layers unpacked, the top entry carries the ID and every tag', async () => {
    const items = await fx.images.history('app:2');
    const [l0, l1] = single.layers;
    assert.deepEqual(view(items), [
      [single.manifest.desc.digest, 'COPY x.txt /srv/', l1!.unpackedSize, ['app:1', 'app:2', 'registry.example:5000/team/app:3']],
      [MISSING_ID, 'ENV A=1 && B=<2>', 0, null],
      [MISSING_ID, 'ADD app /bin/ # buildkit', l0!.unpackedSize, null],
    ]);
    assert.deepEqual(
      items.map((i) => i.created),
      [Date.UTC(2025, 4, 30, 14, 20, 43) / 1000, Date.UTC(2025, 4, 30, 16, 20, 42) / 1000, Date.UTC(2025, 4, 30, 16, 20, 41) / 1000],
    );
    assert.equal(items[0]?.comment, 'last');
    // By ID, short ID and digest reference alike.
    for (const ref of [single.manifest.desc.digest, single.manifest.desc.digest.slice(7, 19), `app@${single.manifest.desc.digest}`]) {
      assert.deepEqual(await fx.images.history(ref), items, ref);
    }
  });

  it('multi-platform: the host platform by default; the Id stays the index digest with a platform', async () => {
    const host = hostPlatform().architecture === 'arm64' ? multi.arm64 : multi.amd64;
    const items = await fx.images.history('multi:1');
    assert.equal(items.length, host.history.length);
    assert.equal(items[0]?.id, multi.index.desc.digest);
    assert.deepEqual(items[0]?.tags, ['multi:1']);

    const arm = await fx.images.history('multi:1', { platform: { os: 'linux', architecture: 'arm64' } });
    assert.deepEqual(view(arm), [
      [multi.index.desc.digest, 'COPY y /srv/', multi.arm64.layers[1]!.unpackedSize, ['multi:1']],
      [MISSING_ID, 'ADD arm /bin/', multi.arm64.layers[0]!.unpackedSize, null],
    ]);
  });

  it('platforms.Only, not OnlyStrict: arm64 asks for arm images too, arm asks for no arm64 ones', async () => {
    const armv7 = await buildImage({ architecture: 'arm', os: 'linux', variant: 'v7' }, 'armv7');
    await loadLayout(fx.images, imageEntries(armv7), [named(armv7.entry, 'docker.io/library/armv7:1')]);
    const items = await fx.images.history('armv7:1', { platform: { os: 'linux', architecture: 'arm64' } });
    assert.equal(items[0]?.id, armv7.manifest.desc.digest);
    const v8 = await fx.images.history('multi:1', { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
    assert.equal(v8[0]?.createdBy, 'COPY y /srv/');
    await assert.rejects(fx.images.history('multi:1', { platform: { os: 'linux', architecture: 'arm', variant: 'v8' } }), NotFoundError);
  });

  it('a platform the image lacks, or whose manifest is absent: 404 naming the image as stored', async () => {
    await assert.rejects(fx.images.history(multi.index.desc.digest, { platform: { os: 'linux', architecture: 's390x' } }), {
      message: 'image with reference multi:1 was found but does not provide the specified platform (linux/s390x)',
    });
    await assert.rejects(fx.images.history('partial:1', { platform: { os: 'linux', architecture: 'arm64' } }), {
      message: 'image with reference partial:1 was found but does not provide the specified platform (linux/arm64)',
    });
    const items = await fx.images.history('partial:1');
    assert.equal(items[0]?.createdBy, 'COPY x.txt /srv/', 'amd64, the platform that is here');
  });

  it('missing images: the resolver texts', async () => {
    await assert.rejects(fx.images.history('nosuch'), { message: 'No such image: nosuch:latest' });
    await assert.rejects(fx.images.history('Bad'), { message: 'invalid reference format: repository name (library/Bad) must be lowercase' });
  });

  it('an image without names: Tags null on the top entry too', async () => {
    const untagged = await buildImage({ architecture: 'amd64', os: 'linux' }, 'untagged');
    await loadLayout(fx.images, imageEntries(untagged), [untagged.manifest.desc]);
    const items = await fx.images.history(untagged.manifest.desc.digest);
    assert.equal(items[0]?.id, untagged.manifest.desc.digest);
    assert.equal(items[0]?.tags, null);
  });
});
