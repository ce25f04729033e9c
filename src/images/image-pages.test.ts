import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { FsContentStore } from '../content/fs-content-store.js';
import { parseFilters } from '../filters/filter-args.js';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.js';
import { ImageService } from './image-service.js';
import type { ImageSummary, ListPage } from './explorer-api-types.js';
import { TargetFactsStore } from './image-list.js';
import { searchLine, searchWords } from './image-pages.js';
import { indexImage, layoutArchive, manifestImage, mutationFixture, sharedLayer, type MutationFixture, type TestImage } from './testing/mutation-fixture.js';

/**
 * Nine targets: created at several times, two of them at the same second (then by ID), one with
 * three names, an index, a dangling one, and one without `created`. With `broken`, the arm64
 * layer of the index `partial:1` is gone: its facts are incomplete, never stored, so it has no row.
 */
async function store(fx: MutationFixture, options: { broken?: boolean } = {}): Promise<void> {
  const base = await sharedLayer('pages base');
  const at = (day: number) => `2024-01-${String(day).padStart(2, '0')}T10:00:00Z`;
  const images: Array<{ image: TestImage; name?: string }> = [];
  for (const [i, day] of [3, 7, 7, 1, 9].entries()) {
    images.push({ image: await manifestImage({ marker: `app${i}`, shared: [base], created: at(day) }), name: `docker.io/library/app${i}:1` });
  }
  const twice = await manifestImage({ marker: 'twice', created: at(5) });
  images.push({ image: twice, name: 'docker.io/team/twice:a' }, { image: twice, name: 'docker.io/team/twice:b' }, { image: twice, name: 'localhost:5000/other/twice:c' });
  images.push({ image: await indexImage({ marker: 'multi', shared: [base], created: at(4) }), name: 'docker.io/library/multi:1' });
  images.push({ image: await manifestImage({ marker: 'undated' }), name: 'docker.io/library/undated:1' });
  images.push({ image: await manifestImage({ marker: 'nameless', created: at(8) }) });
  const partial = await indexImage({ marker: 'partial', created: at(6) });
  images.push({ image: partial, name: 'docker.io/library/partial:1' });
  await fx.load(await layoutArchive(images));
  if (options.broken) {
    const arm64Layer = partial.platforms[1]?.blobs.at(-1)?.desc.digest ?? '';
    rmSync(path.join(fx.root, 'content', 'blobs', 'sha256', arm64Layer.slice('sha256:'.length)));
  }
}

const LIST = { all: false, sharedSize: false, manifests: true } as const;

/** What the explorer answered from the whole list: `docker images`, searched, sliced. */
async function whole(service: ImageService, q: { search?: string; filters?: string; offset: number; limit: number }): Promise<ListPage> {
  const words = searchWords(q.search);
  const all = (await service.list({ ...LIST, filters: parseFilters(q.filters ?? '') })).filter((s) => words.every((w) => searchLine(s).includes(w)));
  return { total: all.length, offset: q.offset, images: all.slice(q.offset, q.offset + q.limit) };
}

async function paged(service: ImageService, q: { search?: string; filters?: string; offset: number; limit: number }): Promise<ListPage | undefined> {
  return service.listPage({ ...q, filters: parseFilters(q.filters ?? '') });
}

async function samePages(service: ImageService): Promise<void> {
  const all = await service.list({ ...LIST, filters: new Map() });
  const twice = all.find((s) => s.repoTags?.includes('team/twice:a')) as ImageSummary;
  const queries = [
    ...[0, 2, 4, 6, 8, 10].map((offset) => ({ offset, limit: 2 })),
    { offset: 0, limit: 50, filters: '{"dangling":{"true":true}}' },
    { offset: 1, limit: 3, filters: '{"dangling":{"false":true}}' },
    { offset: 0, limit: 50, search: 'APP' },
    { offset: 1, limit: 2, search: 'app :1' },
    { offset: 0, limit: 50, search: 'twice:c' },
    { offset: 0, limit: 50, search: `twice@${twice.id.slice(0, 20)}` },
    { offset: 0, limit: 50, search: twice.id.slice(-10) },
    { offset: 0, limit: 50, search: 'library' },
    { offset: 0, limit: 50, search: 'app', filters: '{"dangling":{"true":true}}' },
  ];
  for (const q of queries) {
    const page = await paged(service, q);
    assert.ok(page, `paged: ${JSON.stringify(q)}`);
    assert.deepEqual(page, await whole(service, q), JSON.stringify(q));
  }
}

describe('the explorer list a page at a time (ImagePages)', () => {
  it("a page is the whole list's slice: order, total, dangling, search (repo digests too)", async () => {
    const fx = await mutationFixture();
    try {
      await store(fx);
      await samePages(fx.service);
      assert.equal((await paged(fx.service, { offset: 0, limit: 50 }))?.total, 10);
      assert.equal((await paged(fx.service, { offset: 0, limit: 50, filters: '{"dangling":{"true":true}}' }))?.total, 1);
    } finally {
      await fx.close();
    }
  });

  it('a target whose facts are incomplete (no row) takes its place among the rows', async () => {
    const fx = await mutationFixture();
    try {
      await store(fx, { broken: true });
      assert.equal((await fx.service.metadata.targetsWithoutRows(new TargetFactsStore(fx.service).key)).length, 10, 'none listed yet');
      await samePages(fx.service);
      assert.equal((await fx.service.metadata.targetsWithoutRows(new TargetFactsStore(fx.service).key)).length, 1, 'partial:1 only');
      const first = await paged(fx.service, { offset: 0, limit: 50 });
      assert.ok(first?.images.some((s) => s.repoTags?.includes('partial:1')));
    } finally {
      await fx.close();
    }
  });

  it('the filters a row cannot answer (label, reference, before) are left to the whole list', async () => {
    const fx = await mutationFixture();
    try {
      await store(fx);
      for (const filters of ['{"label":{"marker":true}}', '{"reference":{"app*":true}}', '{"before":{"app0:1":true}}']) {
        assert.equal(await paged(fx.service, { offset: 0, limit: 5, filters }), undefined, filters);
      }
    } finally {
      await fx.close();
    }
  });

  for (const upgraded of [false, true]) {
    it(`after a restart${upgraded ? ' on a data root of schema 2 (rows filled at open from the stored facts)' : ''}, a page reads its own rows, no other facts and no blob`, async () => {
      const fx = await mutationFixture();
      try {
        await store(fx);
        const before = await fx.service.list({ ...LIST, filters: new Map() });
        await fx.service.metadata.close();
        const file = path.join(fx.root, 'metadata.db');
        if (upgraded) {
          const db = new Database(file);
          db.exec('DROP INDEX target_facts_page; DROP INDEX target_facts_rows; ALTER TABLE target_facts DROP COLUMN row; ALTER TABLE target_facts DROP COLUMN created; PRAGMA user_version = 2');
          db.close();
        }
        const metadata = new SqliteMetadataStore(file);
        const content = new FsContentStore(path.join(fx.root, 'content'));
        await content.init();
        const service = new ImageService(content, metadata);
        const facts: string[] = [];
        const rows: string[] = [];
        let blobs = 0;
        const [getFacts, getRows, has] = [metadata.getTargetFacts.bind(metadata), metadata.getTargetRows.bind(metadata), content.has.bind(content)];
        metadata.getTargetFacts = (digests, key) => (facts.push(...digests), getFacts(digests, key));
        metadata.getTargetRows = (digests, key) => (rows.push(...digests), getRows(digests, key));
        content.has = (digest) => (blobs++, has(digest));
        try {
          const page = await paged(service, { offset: 2, limit: 3 });
          assert.deepEqual(page, { total: 10, offset: 2, images: before.slice(2, 5) });
          assert.deepEqual({ facts, rows: rows.length, blobs }, { facts: [], rows: 3, blobs: 0 });
        } finally {
          await metadata.close();
        }
      } finally {
        await fx.close().catch(() => {});
      }
    });
  }
});
