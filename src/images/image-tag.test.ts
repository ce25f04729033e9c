import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import type { EngineEvent } from '../events/event-bus.js';
import { referenceString } from '../reference/reference.js';
import { tagReference } from './image-tag.js';
import { layoutArchive, manifestImage, mutationFixture, type MutationFixture } from './testing/mutation-fixture.js';

const A = 'sha256:' + 'a'.repeat(64);

describe('tagReference: repo and tag as Docker reads them', () => {
  const name = (repo: string, tag = ''): string | undefined => {
    const ref = tagReference(repo, tag);
    return ref && referenceString(ref);
  };

  it('normalizes, adds latest, lets tag replace a tag in repo', () => {
    assert.equal(name('foo'), 'docker.io/library/foo:latest');
    assert.equal(name('foo', 'v1'), 'docker.io/library/foo:v1');
    assert.equal(name('foo:a', 'b'), 'docker.io/library/foo:b');
    assert.equal(name('foo:a'), 'docker.io/library/foo:a');
    assert.equal(name('localhost:5000/x/y', '1.0'), 'localhost:5000/x/y:1.0');
  });

  it('no repo: nothing to do (Docker answers 200)', () => {
    assert.equal(tagReference('', 'v1'), undefined);
  });

  it("refuses with Docker's texts", () => {
    const refused = (repo: string, tag: string, message: string): void => {
      assert.throws(() => tagReference(repo, tag), (err: unknown) => err instanceof InvalidArgumentError && err.message === message);
    };
    refused('sha256', '', 'refusing to create an ambiguous tag using digest algorithm as name');
    refused('sha256', 'abc', 'refusing to create an ambiguous tag using digest algorithm as name');
    refused(`foo@${A}`, '', 'cannot import digest reference');
    refused('Foo', '', 'invalid reference format: repository name (library/Foo) must be lowercase');
    refused('a b', '', 'invalid reference format');
    refused('foo', 'bad tag', 'invalid tag format');
    refused('foo', '-x', 'invalid tag format');
    refused('a'.repeat(64), '', `invalid repository name (${'a'.repeat(64)}), cannot specify 64-byte hexadecimal strings`);
  });

  it('only the bare name sha256 is refused', () => {
    assert.equal(name('sha256x'), 'docker.io/library/sha256x:latest');
    assert.equal(name('me/sha256'), 'docker.io/me/sha256:latest');
  });
});

describe('ImageService.tag', () => {
  let fx: MutationFixture;
  const events: EngineEvent[] = [];
  before(async () => {
    fx = await mutationFixture();
    fx.service.events.subscribe((e) => events.push(e));
    const img = await manifestImage({ marker: 'tagme', labels: { 'com.example.x': '<y>', name: 'label-called-name' } });
    await fx.load(await layoutArchive([{ image: img, name: 'docker.io/library/tagme:1' }]));
  });
  after(() => fx.close());

  it('names the image, moves LastTagTime and emits tag with the labels and the new name', async () => {
    const before = await fx.service.inspect('tagme:1', { manifests: false });
    events.length = 0;
    await fx.service.tag('tagme:1', tagReference('example.com/team/tagme', 'v2')!);
    const after = await fx.service.inspect('example.com/team/tagme:v2', { manifests: false });
    assert.equal(after.id, before.id);
    assert.deepEqual(after.repoTags.sort(), ['example.com/team/tagme:v2', 'tagme:1']);
    assert.ok(after.lastTagTime > before.lastTagTime, `${after.lastTagTime} > ${before.lastTagTime}`);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.action, 'tag');
    assert.equal(events[0]?.actor.id, before.id);
    // The name attribute wins over a label of the same key, as in Docker.
    assert.deepEqual(events[0]?.actor.attributes, { 'com.example.x': '<y>', name: 'example.com/team/tagme:v2' });
  });

  it('by ID and short ID; an unknown or unparsable source is 404', async () => {
    const { id } = await fx.service.inspect('tagme:1', { manifests: false });
    await fx.service.tag(id, tagReference('byid', '')!);
    await fx.service.tag(id.slice(7, 19), tagReference('byshort', '')!);
    assert.equal((await fx.service.inspect('byid', { manifests: false })).id, id);
    assert.equal((await fx.service.inspect('byshort', { manifests: false })).id, id);
    await assert.rejects(fx.service.tag('nosuch', tagReference('x', '')!), (err: unknown) => err instanceof NotFoundError && err.message === 'No such image: nosuch:latest');
    await assert.rejects(fx.service.tag('Bad', tagReference('x', '')!), (err: unknown) => {
      assert.ok(err instanceof NotFoundError, 'Docker wraps every GetImage failure as not found');
      assert.equal(err.message, 'invalid reference format: repository name (library/Bad) must be lowercase');
      return true;
    });
  });
});
