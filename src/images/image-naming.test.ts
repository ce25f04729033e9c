import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.js';
import { MediaType } from '../oci/media-types.js';
import { danglingName } from './image-names.js';
import { nameImage, type NameWrite } from './image-naming.js';

const A = 'sha256:' + 'a'.repeat(64);
const B = 'sha256:' + 'b'.repeat(64);
const desc = (digest: string) => ({ mediaType: MediaType.ociManifest, digest, size: 10 });
const now = '2026-02-01T00:00:00Z';
const later = '2026-02-02T00:00:00Z';

/** a:1 names A; B is dangling. */
async function store(): Promise<SqliteMetadataStore> {
  const md = new SqliteMetadataStore(':memory:');
  await md.putImage({ name: 'docker.io/library/a:1', target: desc(A), createdAt: now, updatedAt: now });
  await md.putImage({ name: danglingName(B), target: desc(B), createdAt: now, updatedAt: now });
  return md;
}

const names = async (md: SqliteMetadataStore): Promise<string[]> => (await md.listImages()).map((r) => `${r.name}=${r.target.digest.slice(7, 8)}`);
const times = async (md: SqliteMetadataStore, name: string): Promise<[string, string] | undefined> => {
  const r = await md.getImage(name);
  return r && [r.createdAt, r.updatedAt];
};
const name = (md: SqliteMetadataStore, n: string, digest: string, how: NameWrite): Promise<void> =>
  md.transaction((tx) => nameImage(tx, n, desc(digest), later, how));

// What every write that names an image shares (tag, load, import, pull).
for (const how of ['replace', 'update'] as const) {
  describe(`nameImage (${how}): the dangling rules`, () => {
    it('a new name for a dangling image replaces its dangling record', async () => {
      const md = await store();
      await name(md, 'docker.io/library/b:1', B, how);
      assert.deepEqual(await names(md), ['docker.io/library/a:1=a', 'docker.io/library/b:1=b']);
      assert.deepEqual(await times(md, 'docker.io/library/b:1'), [later, later]);
    });

    it('moving the last name of an image leaves it dangling, in a new record', async () => {
      const md = await store();
      await name(md, 'docker.io/library/a:1', B, how);
      assert.deepEqual(await names(md), ['docker.io/library/a:1=b', `${danglingName(A)}=a`]);
      // Docker's ensureDanglingImage creates it: a prune's `until` counts from now.
      assert.deepEqual(await times(md, danglingName(A)), [later, later]);
    });

    it('moving one of several names leaves no dangling record', async () => {
      const md = await store();
      await md.putImage({ name: 'docker.io/library/a:2', target: desc(A), createdAt: now, updatedAt: now });
      await name(md, 'docker.io/library/a:1', B, how);
      assert.deepEqual(await names(md), ['docker.io/library/a:1=b', 'docker.io/library/a:2=a']);
    });

    it('a dangling name keeps its own record', async () => {
      const md = await store();
      await name(md, danglingName(B), B, how);
      assert.deepEqual(await names(md), ['docker.io/library/a:1=a', `${danglingName(B)}=b`]);
    });
  });
}

describe('nameImage: what replace (docker tag) and update (load, import, pull) do to the record the name has', () => {
  it('replace: a name that moves is a new record; on its target already, nothing changes, not even the times', async () => {
    const md = await store();
    const generation = md.generation;
    await name(md, 'docker.io/library/a:1', A, 'replace');
    assert.deepEqual(await times(md, 'docker.io/library/a:1'), [now, now]);
    assert.equal(md.generation, generation);
    await name(md, 'docker.io/library/a:1', B, 'replace');
    assert.deepEqual(await times(md, 'docker.io/library/a:1'), [later, later]);
  });

  it('update: the record keeps its createdAt and takes updatedAt now, on the same target too', async () => {
    const md = await store();
    await name(md, 'docker.io/library/a:1', A, 'update');
    assert.deepEqual(await times(md, 'docker.io/library/a:1'), [now, later]);
    const md2 = await store();
    await name(md2, 'docker.io/library/a:1', B, 'update');
    assert.deepEqual(await times(md2, 'docker.io/library/a:1'), [now, later]);
  });
});
