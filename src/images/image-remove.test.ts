import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ConflictError, InvalidArgumentError, LadingError, NotFoundError } from '../errors.js';
import type { EngineEvent } from '../events/event-bus.js';
import type { ImageRecord } from '../metadata/metadata-store.js';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.js';
import { MediaType } from '../oci/media-types.js';
import { parseNormalizedNamed } from '../reference/reference.js';
import { danglingName } from './image-names.js';
import { resolveAllReferences, sameReferences, type RemoveOptions } from './image-remove.js';
import { tagReference } from './image-tag.js';
import {
  digestsOf,
  indexImage,
  layoutArchive,
  manifestImage,
  mutationFixture,
  sharedLayer,
  type MutationFixture,
  type TestImage,
} from './testing/mutation-fixture.js';

const A = 'sha256:abcd' + '1'.repeat(60);
const B = 'sha256:abcd' + '2'.repeat(60);
const now = '2026-01-01T00:00:00Z';
const rec = (name: string, digest: string): ImageRecord => ({
  name,
  target: { mediaType: MediaType.ociManifest, digest, size: 1 },
  createdAt: now,
  updatedAt: now,
});
const names = (records: ImageRecord[]): string[] => records.map((r) => r.name);

describe('sameReferences (getSameReferences)', () => {
  const all = [
    rec('docker.io/library/alpine:3', A),
    rec('docker.io/library/alpine:latest', A),
    rec(`docker.io/library/alpine@${A}`, A),
    rec('docker.io/library/busybox:1', A),
  ];
  const named = (s: string) => parseNormalizedNamed(s);

  it('a tag means that tag only, and digest names only when no other tag of the repository is there', () => {
    assert.deepEqual(names(sameReferences(named('alpine:latest'), all)), ['docker.io/library/alpine:latest']);
    const onlyOneTag = [rec('docker.io/library/alpine:latest', A), rec(`docker.io/library/alpine@${A}`, A)];
    assert.deepEqual(names(sameReferences(named('alpine:latest'), onlyOneTag)), names(onlyOneTag));
  });

  it('a digest means every name of the repository', () => {
    assert.deepEqual(names(sameReferences(named(`alpine@${A}`), all)), names(all.slice(0, 3)));
  });

  it('no reference: the first named record decides; dangling records always count', () => {
    assert.deepEqual(names(sameReferences(undefined, all)), ['docker.io/library/alpine:3']);
    const dangling = [rec(danglingName(A), A)];
    assert.deepEqual(names(sameReferences(undefined, dangling)), [danglingName(A)]);
  });
});

describe('resolveAllReferences', async () => {
  const store = async (): Promise<SqliteMetadataStore> => {
    const md = new SqliteMetadataStore(':memory:');
    for (const r of [rec('docker.io/library/one:1', A), rec('docker.io/library/two:1', A), rec('docker.io/library/abcd1:latest', B)]) await md.putImage(r);
    return md;
  };

  it('a name finds its record and every record of its target', async () => {
    const { image, all } = await resolveAllReferences(await store(), 'one:1');
    assert.equal(image?.name, 'docker.io/library/one:1');
    assert.deepEqual(names(all), ['docker.io/library/one:1', 'docker.io/library/two:1']);
  });

  it('an ID finds no record by name, only the target', async () => {
    for (const ref of [A, A.slice(7), 'abcd111']) {
      const { image, all } = await resolveAllReferences(await store(), ref);
      assert.equal(image, undefined, ref);
      assert.deepEqual(names(all), ['docker.io/library/one:1', 'docker.io/library/two:1'], ref);
    }
  });

  it('a short ID that is also a name of another target is ambiguous; several targets too', async () => {
    await assert.rejects(resolveAllReferences(await store(), 'abcd1'), { message: 'ambiguous reference' });
    await assert.rejects(resolveAllReferences(await store(), 'abcd'), { message: 'ambiguous reference' });
  });

  it("errors say what Docker's say", async () => {
    await assert.rejects(resolveAllReferences(await store(), 'nope'), (e: unknown) => e instanceof NotFoundError && e.message === 'No such image: nope:latest');
    const missing = 'sha256:' + 'f'.repeat(64);
    await assert.rejects(resolveAllReferences(await store(), missing), { message: `No such image: ${missing}` });
    await assert.rejects(resolveAllReferences(await store(), 'Nope'), (e: unknown) => e instanceof InvalidArgumentError);
    await assert.rejects(resolveAllReferences(await store(), 'sha512:' + 'f'.repeat(128)), { message: 'invalid name reference' });
  });
});

describe('ImageService.remove', () => {
  let fx: MutationFixture;
  let events: EngineEvent[] = [];
  let base: Awaited<ReturnType<typeof sharedLayer>>;
  const opts = (o: Partial<RemoveOptions> = {}): RemoveOptions => ({ force: false, prune: true, platforms: [], ...o });
  const load = async (image: TestImage, ...imageNames: string[]): Promise<void> => {
    await fx.load(await layoutArchive([{ image, name: `docker.io/library/${imageNames[0]}` }]));
    for (const n of imageNames.slice(1)) await fx.service.tag(image.target.digest, tagReference(n, '')!);
  };
  const present = (image: TestImage): boolean[] => digestsOf(image).map((d) => fx.blobs().has(d));

  before(async () => {
    fx = await mutationFixture();
    fx.service.events.subscribe((e) => events.push(e));
    base = await sharedLayer('remove base');
  });
  after(() => fx.close());
  beforeEach(() => {
    events = [];
  });

  it('a name of an image with others is untagged; the image and its blobs stay', async () => {
    const img = await manifestImage({ marker: 'rm-multi', shared: [base] });
    await load(img, 'rm-multi:1', 'rm-multi:2', 'rm-other:1');
    events = [];
    assert.deepEqual(await fx.service.remove('rm-multi:1', opts()), [{ Untagged: 'rm-multi:1' }]);
    assert.deepEqual(present(img), [true, true, true, true]);
    assert.deepEqual(events.map((e) => [e.action, e.actor.id, e.actor.attributes]), [['untag', img.target.digest, { name: 'rm-multi:1' }]]);
  });

  it('by ID with several names: 409 unless forced; forced, every name then the image', async () => {
    const img = await manifestImage({ marker: 'rm-multi', shared: [base] });
    const short = img.target.digest.slice(7, 19);
    await assert.rejects(fx.service.remove(short, opts()), (err: unknown) => {
      assert.ok(err instanceof ConflictError);
      assert.equal(err.message, `conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`);
      return true;
    });
    assert.deepEqual(await fx.service.remove(img.target.digest, opts({ force: true })), [
      { Untagged: 'rm-multi:2' },
      { Untagged: 'rm-other:1' },
      { Deleted: img.target.digest },
    ]);
    assert.deepEqual(present(img), [false, false, false, false], 'the base is no longer used either');
    assert.deepEqual(
      events.map((e) => [e.action, e.actor.attributes.name]),
      [
        ['untag', 'rm-multi:2'],
        ['untag', 'rm-other:1'],
        ['delete', img.target.digest],
      ],
    );
    assert.deepEqual(events[2]?.actor.attributes, { name: img.target.digest }, 'no labels once the image is gone');
  });

  it('the only name deletes the image; a layer another image uses stays', async () => {
    const a = await manifestImage({ marker: 'rm-a', shared: [base] });
    const b = await manifestImage({ marker: 'rm-b', shared: [base] });
    await load(a, 'rm-a:1');
    await load(b, 'rm-b:1');
    assert.deepEqual(await fx.service.remove('rm-a:1', opts()), [{ Untagged: 'rm-a:1' }, { Deleted: a.target.digest }]);
    assert.deepEqual(present(a), [false, false, true, false]);
    assert.deepEqual(present(b), [true, true, true, true]);
    await assert.rejects(fx.service.inspect('rm-a:1', { manifests: false }), NotFoundError);
  });

  it('a dangling image by ID: only Deleted', async () => {
    const img = await manifestImage({ marker: 'rm-dangling' });
    await fx.load(await layoutArchive([{ image: img }]));
    assert.deepEqual(await fx.service.remove(img.target.digest, opts()), [{ Deleted: img.target.digest }]);
    assert.deepEqual(present(img), [false, false, false]);
  });

  it('name@digest untags every name of that repository; the other repository keeps the image', async () => {
    const img = await manifestImage({ marker: 'rm-digest' });
    await load(img, 'rm-digest:1', 'rm-digest:2', 'rm-keep:1');
    assert.deepEqual(await fx.service.remove(`rm-digest@${img.target.digest}`, opts()), [
      { Untagged: 'rm-digest:1' },
      { Untagged: 'rm-digest:2' },
    ]);
    assert.deepEqual((await fx.service.inspect('rm-keep:1', { manifests: false })).repoTags, ['rm-keep:1']);
    await assert.rejects(fx.service.remove(`rm-digest@${img.target.digest}`, opts()), { message: `No such image: rm-digest@${img.target.digest}` });
  });

  it('missing images and refused options', async () => {
    await assert.rejects(fx.service.remove('rm-nothere', opts()), (e: unknown) => e instanceof NotFoundError && e.message === 'No such image: rm-nothere:latest');
    await assert.rejects(
      fx.service.remove('rm-keep:1', opts({ platforms: [{ os: 'linux', architecture: 'amd64' }] })),
      (e: unknown) =>
        e instanceof InvalidArgumentError &&
        e.message === 'Content will be removed from all images referencing this variant. Use —-force to force delete.',
    );
  });

  it('platforms: only that platform goes; the image keeps its name and its other platform', async () => {
    const img = await indexImage({ marker: 'rm-index', shared: [base] });
    await load(img, 'rm-index:1');
    events = [];
    const [amd64, arm64] = img.platforms;
    const report = await fx.service.remove('rm-index:1', opts({ force: true, platforms: [{ os: 'linux', architecture: 'arm64' }] }));
    assert.deepEqual(report, [{ Deleted: arm64!.target.digest }]);
    const onDisk = fx.blobs();
    for (const d of digestsOf(amd64!)) assert.ok(onDisk.has(d), `amd64 blob ${d} stays`);
    const [, armConfig, sharedBase, armOwn] = digestsOf(arm64!);
    assert.ok(onDisk.has(sharedBase!), 'the layer amd64 shares stays');
    assert.ok(!onDisk.has(arm64!.target.digest) && !onDisk.has(armConfig!) && !onDisk.has(armOwn!));
    const doc = await fx.service.inspect('rm-index:1', { manifests: true });
    assert.deepEqual(doc.repoTags, ['rm-index:1']);
    assert.deepEqual(doc.manifests?.map((m) => m.available), [true, false]);
    assert.deepEqual(events, [], 'Docker logs no event for a platform removal');

    await assert.rejects(
      fx.service.remove('rm-index:1', opts({ force: true, platforms: [{ os: 'linux', architecture: 'arm64' }] })),
      (e: unknown) =>
        e instanceof LadingError &&
        e.kind === 'not-found' &&
        e.message ===
          `failed to delete platform linux/arm64 for image ${img.target.digest}: image with reference rm-index:1 was found but does not provide the specified platform (linux/arm64)`,
    );
  });
});
