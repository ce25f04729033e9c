import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ConflictError, InvalidArgumentError, LadingError } from '../errors.js';
import type { EngineEvent } from '../events/event-bus.js';
import { parseFilters } from '../filters/filter-args.js';
import { tagReference } from './image-tag.js';
import {
  digestsOf,
  layoutArchive,
  manifestImage,
  mutationFixture,
  sharedLayer,
  type MutationFixture,
  type TestImage,
} from './testing/mutation-fixture.js';

const filters = (json: Record<string, Record<string, boolean>>) => parseFilters(JSON.stringify(json));
const sizeOf = (image: TestImage, pick: (digest: string) => boolean = () => true): number =>
  image.blobs.filter((b) => pick(b.desc.digest)).reduce((n, b) => n + b.desc.size, 0);

describe('ImageService.prune', () => {
  let fx: MutationFixture;
  let events: EngineEvent[];
  let base: Awaited<ReturnType<typeof sharedLayer>>;
  let named: TestImage;
  let dangling: TestImage;
  let twin: TestImage;

  beforeEach(async () => {
    fx = await mutationFixture();
    base = await sharedLayer('prune base');
    named = await manifestImage({ marker: 'p-named', shared: [base], labels: { team: 'a', tier: 'web' } });
    dangling = await manifestImage({ marker: 'p-dangling', shared: [base], labels: { team: 'b' } });
    twin = await manifestImage({ marker: 'p-twin', labels: {} });
    await fx.load(
      await layoutArchive([
        { image: named, name: 'docker.io/library/p-named:1' },
        { image: dangling },
        { image: twin, name: 'docker.io/library/p-twin:1' },
      ]),
    );
    await fx.service.tag('p-twin:1', tagReference('p-twin', '2')!);
    events = [];
    fx.service.events.subscribe((e) => events.push(e));
  });
  afterEach(() => fx.close());

  it('by default only dangling images, reported by ID; the shared base stays', async () => {
    const report = await fx.service.prune(new Map());
    const id = dangling.target.digest;
    assert.deepEqual(report, {
      ImagesDeleted: [{ Untagged: id }, { Deleted: id }],
      SpaceReclaimed: sizeOf(dangling, (d) => d !== base.desc.digest),
    });
    assert.deepEqual(events.map((e) => [e.action, e.actor.id, e.actor.attributes]), [
      ['untag', id, { name: id }],
      ['delete', id, { name: id }],
    ]);
    assert.ok(fx.blobs().has(base.desc.digest));
    assert.deepEqual(await fx.service.prune(new Map()), { ImagesDeleted: null, SpaceReclaimed: 0 });
  });

  it('dangling=false prunes every image; each blob counts once, under the image whose removal freed it', async () => {
    const report = await fx.service.prune(filters({ dangling: { false: true } }));
    // By name: docker.io/… sorts before the dangling record (moby-dangling@…).
    assert.deepEqual(report.ImagesDeleted, [
      { Untagged: 'p-named:1' },
      { Deleted: named.target.digest },
      { Untagged: 'p-twin:1' },
      { Untagged: 'p-twin:2' },
      { Deleted: twin.target.digest },
      { Untagged: dangling.target.digest },
      { Deleted: dangling.target.digest },
    ]);
    assert.equal(report.SpaceReclaimed, sizeOf(named) + sizeOf(dangling, (d) => d !== base.desc.digest) + sizeOf(twin));
    assert.equal(fx.blobs().size, 0);
    assert.deepEqual(
      events.filter((e) => e.action === 'delete').map((e) => e.actor.attributes.name),
      ['p-named:1', 'p-twin:2', dangling.target.digest],
      'delete events name the image as pruneAll does',
    );
    assert.ok(!events.some((e) => e.action === 'prune'), 'the containerd store logs no prune event');
  });

  it('label filters look at the configs', async () => {
    const all = { dangling: { false: true } };
    let report = await fx.service.prune(filters({ ...all, label: { 'team=a': true } }));
    assert.deepEqual(report.ImagesDeleted?.map((d) => Object.values(d)[0]), ['p-named:1', named.target.digest]);
    report = await fx.service.prune(filters({ ...all, 'label!': { team: true } }));
    assert.deepEqual(report.ImagesDeleted?.map((d) => Object.values(d)[0]), ['p-twin:1', 'p-twin:2', twin.target.digest]);
    report = await fx.service.prune(filters({ ...all, label: { team: true } }));
    assert.deepEqual(report.ImagesDeleted?.map((d) => Object.values(d)[0]), [dangling.target.digest, dangling.target.digest]);
    assert.equal(fx.blobs().size, 0);
  });

  it('until keeps images created after it', async () => {
    const past = await fx.service.prune(filters({ dangling: { false: true }, until: { '2000-01-01T00:00:00Z': true } }));
    assert.deepEqual(past, { ImagesDeleted: null, SpaceReclaimed: 0 });
    const future = await fx.service.prune(filters({ dangling: { false: true }, until: { '-1h': true } }));
    assert.equal(future.ImagesDeleted?.length, 7, 'a negative duration is an hour ahead');
    await assert.rejects(
      fx.service.prune(filters({ until: { soon: true } })),
      (e: unknown) => e instanceof LadingError && e.kind === 'internal' && e.message === 'failed to parse value as time or duration: "soon"',
    );
  });

  it("refuses unknown filters and bad dangling values with Docker's texts", async () => {
    const refused = async (json: Record<string, Record<string, boolean>>, message: string): Promise<void> => {
      await assert.rejects(fx.service.prune(filters(json)), (e: unknown) => e instanceof InvalidArgumentError && e.message === message);
    };
    await refused({ reference: { x: true } }, "invalid filter 'reference'");
    await refused({ dangling: { maybe: true } }, "invalid filter 'dangling=[maybe]'");
    await refused({ dangling: { true: true, false: true } }, "invalid filter 'dangling=[true false]'");
    assert.equal(fx.blobs().size, digestsOf(named).length + digestsOf(dangling).length - 1 + digestsOf(twin).length);
  });

  it('a dry run reports what the prune then does, and changes nothing', async () => {
    for (const f of [filters({ dangling: { false: true }, label: { 'team=a': true } }), new Map(), filters({ dangling: { false: true } })]) {
      const before = fx.blobs().size;
      const plan = await fx.service.prunePlan(f);
      assert.equal(fx.blobs().size, before, 'nothing deleted');
      assert.deepEqual(events, [], 'no event');
      const done = await fx.service.prune(f);
      assert.deepEqual(plan, done);
      events.length = 0;
    }
  });

  it('one prune at a time', async () => {
    const first = fx.service.prune(new Map());
    await assert.rejects(fx.service.prune(new Map()), (e: unknown) => e instanceof ConflictError && e.message === 'a prune operation is already running');
    await first;
    await fx.service.prune(new Map());
  });
});
