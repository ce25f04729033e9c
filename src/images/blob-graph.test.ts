import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { FsContentStore } from '../content/fs-content-store.js';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.js';
import type { Blob } from '../archive/testing/image-builder.js';
import { parseFilters } from '../filters/filter-args.js';
import { referenceMatches } from './image-filters.js';
import { parseNormalizedNamed, type Reference } from '../reference/reference.js';
import { candidateRecords, literalPrefix } from './image-list.js';
import { ImageService } from './image-service.js';
import { indexImage, layoutArchive, manifestImage, mutationFixture, sharedLayer, type MutationFixture, type TestImage } from './testing/mutation-fixture.js';

/**
 * Garbage collection through the blob graph must delete exactly what the walk of every image
 * (the collector's rule before the graph, `reachableFrom` of every target) no longer reaches.
 */
async function expectedOnDisk(service: ImageService, before: ReadonlySet<string>): Promise<Set<string>> {
  const reached = await service.gc.reachableFrom((await service.metadata.listImages()).map((r) => r.target));
  return new Set([...before].filter((d) => reached.has(d)));
}

const sorted = (s: Iterable<string>): string[] => [...s].sort();

describe('blob graph: garbage collection in a store of many images', () => {
  let fx: MutationFixture;
  let images: Array<{ image: TestImage; name: string }>;
  const IMAGES = 600;

  before(async () => {
    fx = await mutationFixture();
    const bases: Blob[] = [];
    for (let i = 0; i < 5; i++) bases.push(await sharedLayer(`graph base ${i}`));
    images = [];
    for (let i = 0; i < IMAGES; i++) {
      const spec = { marker: `graph-${i}`, shared: [bases[i % bases.length]!] };
      const image = i % 10 === 0 ? await indexImage(spec) : await manifestImage(spec);
      images.push({ image, name: `docker.io/library/graph-${i % 200}:t${i}` });
    }
    await fx.load(await layoutArchive(images));
  });
  after(() => fx.close());

  it('rmi removes exactly the blobs no other image reaches', async () => {
    const opts = { force: false, prune: true, platforms: [] };
    for (const i of [0, 1, 7, 10, 55, 300, 599]) {
      const before = fx.blobs();
      await fx.service.remove(images[i]!.name, opts);
      assert.deepEqual(sorted(fx.blobs()), sorted(await expectedOnDisk(fx.service, before)), `after removing ${images[i]!.name}`);
    }
  });

  it('rmi --platform removes that manifest and what only it reaches; the index stays', async () => {
    const { image, name } = images[20]!;
    const arm64 = (image as TestImage & { platforms: TestImage[] }).platforms[1]!;
    const before = fx.blobs();
    await fx.service.remove(name, { force: true, prune: true, platforms: [{ architecture: 'arm64', os: 'linux' }] });
    const onDisk = fx.blobs();
    assert.ok(onDisk.has(image.target.digest));
    assert.ok(!onDisk.has(arm64.target.digest));
    // The walk still lists the absent manifest's digest, and reaches nothing below it.
    const expected = await expectedOnDisk(fx.service, before);
    expected.delete(arm64.target.digest);
    assert.deepEqual(sorted(onDisk), sorted(expected));
  });

  it('a prune of most images (a bulk sweep) leaves exactly what the rest reach', async () => {
    const keep = new Set(images.slice(0, 50).map((e) => e.name));
    for (const record of await fx.service.metadata.listImages()) {
      if (!keep.has(record.name)) await fx.service.metadata.deleteImage(record.name);
    }
    const before = fx.blobs();
    assert.ok(before.size > 2_000, `${before.size} candidates take the bulk path`);
    await fx.service.collectGarbage(before);
    assert.deepEqual(sorted(fx.blobs()), sorted(await expectedOnDisk(fx.service, before)));
  });
});

describe('blob graph: a data root of schema 1', () => {
  it('is upgraded on open by one walk; sweeps wait for it and then keep what images reach', async () => {
    const fx = await mutationFixture();
    try {
      const base = await sharedLayer('old schema base');
      const a = await manifestImage({ marker: 'old-a', shared: [base] });
      const b = await indexImage({ marker: 'old-b', shared: [base] });
      await fx.load(await layoutArchive([{ image: a, name: 'docker.io/library/old:a' }, { image: b, name: 'docker.io/library/old:b' }]));
      const edges = await fx.service.metadata.listBlobEdges();
      assert.ok(edges.length > 0);
      const root = fx.root;
      await fx.service.metadata.close();

      // What the previous ladingd left: no graph, no facts table, user_version 0.
      const dbFile = path.join(root, 'metadata.db');
      const db = new Database(dbFile);
      db.exec('DROP TABLE blob_edges; DROP TABLE target_facts; PRAGMA user_version = 0');
      db.close();

      const metadata = new SqliteMetadataStore(dbFile);
      const content = new FsContentStore(path.join(root, 'content'));
      await content.init();
      const service = new ImageService(content, metadata);
      assert.equal(metadata.graphBuilt, false);
      assert.deepEqual(await metadata.listBlobEdges(), []);

      await metadata.deleteImage('docker.io/library/old:a');
      const sweep = service.collectGarbage(a.blobs.map((x) => x.desc.digest));
      let swept = false;
      void sweep.then(() => (swept = true));
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(swept, false, 'the sweep waits for the graph');
      await service.gc.buildGraph();
      assert.equal(metadata.graphBuilt, true);
      const deleted = await sweep;
      assert.deepEqual(sorted(deleted), sorted(a.blobs.map((x) => x.desc.digest).filter((d) => d !== base.desc.digest)));
      assert.deepEqual(
        (await metadata.listBlobEdges()).filter((e) => !deleted.includes(e.parent)),
        edges.filter((e) => !deleted.includes(e.parent)),
      );
      await metadata.close();
      const reopened = new SqliteMetadataStore(dbFile);
      assert.equal(reopened.graphBuilt, true, 'the upgrade is recorded');
      await reopened.close();
    } finally {
      await fx.close();
    }
  });
});

describe('list candidates for the reference filter', () => {
  it('the literal part of a pattern', () => {
    assert.equal(literalPrefix('bench-list'), 'bench-list');
    assert.equal(literalPrefix('bench-*:v1'), 'bench-');
    assert.equal(literalPrefix('a?c'), 'a');
    assert.equal(literalPrefix('[ab]c'), '');
    assert.equal(literalPrefix('x\\*'), 'x');
  });

  it('name ranges hold every record a pattern can match, in name order', async () => {
    const metadata = new SqliteMetadataStore(':memory:');
    const target = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 1 };
    const names = [
      'docker.io/library/alpine:3',
      'docker.io/library/alpine:latest',
      'docker.io/library/alpinex:1',
      'docker.io/library/foo/bar:1',
      'docker.io/me/alpine:1',
      'docker.io/me/tools:2',
      'localhost:5000/alpine:1',
      'example.com/me/alpine@sha256:' + 'b'.repeat(64),
      'moby-dangling@sha256:' + 'a'.repeat(64),
      'docker.io/library/zzz:1',
    ];
    for (const name of names) await metadata.putImage({ name, target, createdAt: 't', updatedAt: 't' });
    try {
      for (const patterns of [
        ['alpine'],
        ['alpine:*'],
        ['alp*'],
        ['me/*'],
        ['me/alpine'],
        ['library/foo/*'],
        ['localhost:5000/*'],
        ['example.com/me/alpine'],
        ['moby-dangling'],
        ['nothing', 'alpine*'],
        ['*alpine'],
        ['[a]lpine'],
        ['docker.io/library/alpine'],
      ]) {
        const filters = parseFilters(JSON.stringify({ reference: patterns }));
        const candidates = (await candidateRecords(metadata, filters)).map((r) => r.name);
        assert.deepEqual(candidates, [...candidates].sort(), 'in name order');
        // Every record the filter accepts among all records is a candidate.
        for (const record of await metadata.listImages()) {
          let ref: Reference;
          try {
            ref = parseNormalizedNamed(record.name);
          } catch {
            continue;
          }
          if (referenceMatches(patterns, ref)) assert.ok(candidates.includes(record.name), `${record.name} for ${patterns.join(', ')}`);
        }
      }
      assert.equal((await candidateRecords(metadata, parseFilters(JSON.stringify({ reference: ['alpine'] })))).length < names.length, true);
    } finally {
      await metadata.close();
    }
  });
});

describe('list facts kept in SQLite', () => {
  const listAll = (service: ImageService) =>
    service.list({ all: false, sharedSize: true, manifests: true, filters: new Map() });

  it('a new service lists from the stored facts without reading a blob; a deletion under a target drops them', async () => {
    const fx = await mutationFixture();
    try {
      const idx = await indexImage({ marker: 'facts-idx' });
      const one = await manifestImage({ marker: 'facts-one' });
      await fx.load(await layoutArchive([{ image: idx, name: 'docker.io/library/facts:idx' }, { image: one, name: 'docker.io/library/facts:one' }]));
      const first = await listAll(fx.service);

      let reads = 0;
      const counting = Object.create(fx.service.content) as typeof fx.service.content;
      counting.has = (digest) => (reads++, fx.service.content.has(digest));
      counting.readBytes = (digest, max) => (reads++, fx.service.content.readBytes(digest, max));
      const again = new ImageService(counting, fx.service.metadata);
      assert.deepEqual(await listAll(again), first);
      assert.equal(reads, 0, 'no blob read or looked up');

      // Through the second service, whose parsed copies must go with the stored facts.
      await again.remove('facts:idx', { force: true, prune: true, platforms: [{ architecture: 'arm64', os: 'linux' }] });
      const after = await listAll(again);
      await fx.service.metadata.clearTargetFacts();
      const fresh = await listAll(new ImageService(fx.service.content, fx.service.metadata));
      assert.deepEqual(after, fresh, 'as gathered from the blobs');
      const summary = after.find((s) => s.id === idx.target.digest)!;
      assert.equal(summary.manifests?.filter((m) => m.available).length, 1, 'the arm64 platform is gone');
    } finally {
      fx.close();
    }
  });
});

describe('blob graph: content that arrives under an index already here', () => {
  it('a platform manifest loaded as a stray file of another archive keeps what it lists, as the walk would', async () => {
    const fx = await mutationFixture();
    try {
      const idx = await indexImage({ marker: 'late-arm64' });
      const [amd64, arm64] = idx.platforms as [TestImage, TestImage];
      // The index with its arm64 platform absent, as a `docker save --platform` leaves it.
      await fx.load(await layoutArchive([{ image: { target: idx.target, blobs: [idx.blobs[0]!, ...amd64.blobs] }, name: 'docker.io/library/late:1' }]));
      assert.ok(!fx.blobs().has(arm64.target.digest));
      // Another image's archive that also holds the arm64 platform's blobs, naming none of them.
      const other = await manifestImage({ marker: 'late-other' });
      await fx.load(await layoutArchive([{ image: { target: other.target, blobs: [...other.blobs, ...arm64.blobs] }, name: 'docker.io/library/other:1' }]));
      const onDisk = fx.blobs();
      for (const b of arm64.blobs) assert.ok(onDisk.has(b.desc.digest), `${b.desc.digest} stays: late:1 reaches it now`);
      assert.deepEqual(sorted(onDisk), sorted(await expectedOnDisk(fx.service, onDisk)));
      // And goes with the image that reaches it.
      await fx.service.remove('late:1', { force: false, prune: true, platforms: [] });
      for (const b of arm64.blobs) assert.ok(!fx.blobs().has(b.desc.digest), `${b.desc.digest} went with late:1`);
    } finally {
      fx.close();
    }
  });
});
