import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { FsContentStore } from '../content/fs-content-store.js';
import { ImageService } from '../images/image-service.js';
import { loadLayout } from '../images/testing/service-fixture.js';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.js';
import { MediaType } from '../oci/media-types.js';
import { hexOf } from '../oci/digest.js';
import { buildImage, buildIndex, imageEntries, indexEntries, named, type BuiltImage, type BuiltIndex } from '../archive/testing/sample-images.js';
import { blob, blobEntry, ociIndex, ociManifest, type Blob } from '../archive/testing/image-builder.js';
import { checkDataRoot, checkStore, runCheck } from './check.js';
import { lockDataRoot } from './data-root-lock.js';
import { recordMetadataLocation } from './metadata-location.js';
import { DIRTY_MARKER } from './startup-check.js';

interface Store {
  root: string;
  app: BuiltImage;
  partial: BuiltIndex;
  blob(digest: string): string;
  /** Opens the stores for a moment (the check wants them closed). */
  withService<T>(fn: (images: ImageService) => Promise<T>): Promise<T>;
}

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A data root holding `app:1` (one manifest) and `partial:1` (an index whose arm64 image is absent). */
async function store(): Promise<Store> {
  const root = mkdtempSync(path.join(tmpdir(), 'lading-check-'));
  roots.push(root);
  const withService = async <T>(fn: (images: ImageService) => Promise<T>): Promise<T> => {
    const content = new FsContentStore(path.join(root, 'content'));
    await content.init();
    const metadata = new SqliteMetadataStore(path.join(root, 'metadata.db'));
    try {
      return await fn(new ImageService(content, metadata));
    } finally {
      await metadata.close();
    }
  };
  const app = await buildImage({ architecture: 'amd64', os: 'linux' }, 'check-app');
  const partial = await buildIndex('check-partial');
  await withService(async (images) => {
    await loadLayout(images, imageEntries(app), [named(app.manifest.desc, 'docker.io/library/app:1')]);
    await loadLayout(images, indexEntries(partial, { omitArm64: true }), [named(partial.index.desc, 'docker.io/library/partial:1')]);
  });
  return { root, app, partial, blob: (d) => path.join(root, 'content', 'blobs', 'sha256', hexOf(d)), withService };
}

const messages = (r: { problems: Array<{ message: string }> }): string[] => r.problems.map((p) => p.message);

describe('ladingd check', () => {
  it('finds nothing wrong in a store made by loads, an index with an absent platform included', async () => {
    const s = await store();
    const result = await checkDataRoot(s.root, { repair: false });
    assert.deepEqual(messages(result), []);
    assert.equal(result.images, 2);
    assert.equal(result.blobs, readdirSync(path.join(s.root, 'content', 'blobs', 'sha256')).length);
  });

  it('reports a corrupt layer and the image it damages; --repair removes the blob and keeps the image', async () => {
    const s = await store();
    const layer = s.app.layerBlobs[1]!.desc.digest;
    writeFileSync(s.blob(layer), 'not the layer any more');
    const found = await checkDataRoot(s.root, { repair: false });
    assert.equal(found.problems.length, 2, messages(found).join('\n'));
    assert.match(messages(found)[0]!, new RegExp(`^corrupt blob ${layer}: its 22 bytes hash to sha256:[a-f0-9]{64}$`));
    assert.equal(
      messages(found)[1],
      `image app:1 (${s.app.manifest.desc.digest}): layer ${layer} of manifest ${s.app.manifest.desc.digest} is corrupt`,
    );

    const repaired = await checkDataRoot(s.root, { repair: true });
    assert.deepEqual(
      repaired.problems.map((p) => p.repaired),
      [true, false],
    );
    assert.match(messages(repaired)[0]!, /: removed$/);
    assert.match(messages(repaired)[1]!, /is missing: kept, with its content incomplete$/);

    // The record stays: inspect still answers, the manifest shown as unavailable.
    await s.withService(async (images) => {
      const inspect = await images.inspect('app:1', { manifests: true });
      assert.equal(inspect.id, s.app.manifest.desc.digest);
      assert.equal(inspect.manifests?.[0]?.available, false);
    });
    const again = await checkDataRoot(s.root, { repair: false });
    assert.deepEqual(messages(again), [
      `image app:1 (${s.app.manifest.desc.digest}): layer ${layer} of manifest ${s.app.manifest.desc.digest} is missing`,
    ]);
  });

  it('refuses a data root whose metadata is in PostgreSQL, and removes nothing, rather than take every blob for unused', async () => {
    const s = await store();
    const blobs = readdirSync(path.join(s.root, 'content', 'blobs', 'sha256')).sort();
    rmSync(path.join(s.root, 'metadata.db'));
    await recordMetadataLocation(s.root, '127.0.0.1:5432/lading');
    await assert.rejects(checkDataRoot(s.root, { repair: true }), {
      message: `${s.root}: its metadata is in postgres 127.0.0.1:5432/lading (metadata.location); ladingd check reads a data root's own SQLite metadata only, and would take every blob here for unused (check the replicas with --metadata postgres://… --blob-store registry://…)`,
    });
    assert.deepEqual(readdirSync(path.join(s.root, 'content', 'blobs', 'sha256')).sort(), blobs);
  });

  it('reports orphans, ingest leftovers, stray files and stale layer records; --repair removes them all', async () => {
    const s = await store();
    let orphan = '';
    await s.withService(async (images) => {
      orphan = (await images.content.writeBytes(Buffer.from('nobody uses me'))).digest;
      await images.metadata.putLayerFacts({ digest: `sha256:${'e'.repeat(64)}`, diffId: `sha256:${'f'.repeat(64)}`, unpackedSize: 3 });
    });
    writeFileSync(path.join(s.root, 'content', 'ingest', 'abc123'), 'half a blob');
    writeFileSync(path.join(s.root, 'content', 'blobs', 'sha256', 'notes.txt'), 'hello');
    const found = await checkDataRoot(s.root, { repair: false });
    assert.deepEqual(messages(found), [
      'leftover of an interrupted write: content/ingest/abc123 (11 bytes)',
      'not a blob: content/blobs/sha256/notes.txt is a file whose name is no sha256 digest',
      `layer record of sha256:${'e'.repeat(64)}, whose blob is gone`,
      `blob ${orphan} (14 bytes) is not used by any image`,
    ]);
    const repaired = await checkDataRoot(s.root, { repair: true });
    assert.equal(repaired.problems.length, 4);
    assert.ok(repaired.problems.every((p) => p.repaired && p.message.endsWith(': removed')), messages(repaired).join('\n'));
    assert.deepEqual(messages(await checkDataRoot(s.root, { repair: false })), []);
  });

  it('reports an image whose target is missing, and what only it reached as orphans', async () => {
    const s = await store();
    const manifest = s.app.manifest.desc.digest;
    rmSync(s.blob(manifest));
    const found = messages(await checkDataRoot(s.root, { repair: false }));
    assert.equal(found[0], `image app:1 (${manifest}): its manifest ${manifest} is missing`);
    // Its config and layers: nothing reaches them any more, as the garbage collector sees it.
    assert.equal(found.filter((m) => m.endsWith('is not used by any image')).length, 3);
  });

  it('reports a target that is not JSON, and a manifest without its config', async () => {
    const s = await store();
    const bad = blob('{"schemaVersion": 2, "manifests": [', MediaType.ociIndex);
    const config = blob('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}', MediaType.ociConfig);
    const lonely = ociManifest(config.desc, []);
    await s.withService(async (images) => {
      await images.content.writeBytes(bad.data);
      await images.content.writeBytes(lonely.data);
      const now = '2025-01-01T00:00:00Z';
      await images.metadata.putImage({ name: 'docker.io/library/bad:1', target: bad.desc, createdAt: now, updatedAt: now });
      await images.metadata.putImage({ name: 'docker.io/library/lonely:1', target: lonely.desc, createdAt: now, updatedAt: now });
      // With their blob graph, as a load writes it.
      images.metadata.putBlobEdges((await images.gc.graphOf([bad.desc, lonely.desc])).edges);
    });
    const found = messages(await checkDataRoot(s.root, { repair: false }));
    assert.equal(found.length, 2, found.join('\n'));
    assert.match(found[0]!, new RegExp(`^image bad:1 \\(${bad.desc.digest}\\): its index ${bad.desc.digest} is not valid JSON: `));
    assert.equal(found[1], `image lonely:1 (${lonely.desc.digest}): config ${config.desc.digest} of manifest ${lonely.desc.digest} is missing`);
  });

  it('verifies the blob graph: missing and stale links reported and rewritten; an old data root gets it built', async () => {
    const s = await store();
    const manifest = s.app.manifest.desc.digest;
    const config = s.app.config.desc.digest;
    const gone = `sha256:${'d'.repeat(64)}`;
    await s.withService(async (images) => {
      await images.metadata.deleteBlobEdges(manifest);
      await images.metadata.putBlobEdges([{ parent: gone, child: config }]);
    });
    assert.deepEqual(messages(await checkDataRoot(s.root, { repair: false })), [
      `blob graph: ${manifest} lacks ${1 + s.app.layers.length} of its link(s) (${config}…)`,
      `blob graph: links out of ${gone}, whose blob is gone`,
    ]);
    const repaired = await checkDataRoot(s.root, { repair: true });
    assert.ok(repaired.problems.every((p) => p.repaired), messages(repaired).join('\n'));
    assert.deepEqual(messages(await checkDataRoot(s.root, { repair: false })), []);

    // A data root of schema 1: no graph, user_version 0.
    const db = new Database(path.join(s.root, 'metadata.db'));
    db.exec('DROP TABLE blob_edges; DROP TABLE target_facts; PRAGMA user_version = 0');
    db.close();
    assert.deepEqual(messages(await checkDataRoot(s.root, { repair: false })), [
      'the blob graph has not been built (a data root of an older ladingd; the daemon builds it at start)',
    ]);
    await checkDataRoot(s.root, { repair: true });
    assert.deepEqual(messages(await checkDataRoot(s.root, { repair: false })), []);
  });

  it('beside a daemon: reads only, reports what is stable, leaves out writes in progress; --repair refuses', async () => {
    const s = await store();
    const lock = await lockDataRoot(s.root);
    try {
      // A load in flight: a file in the ingest area and a committed blob no image names yet.
      writeFileSync(path.join(s.root, 'content', 'ingest', 'in-flight'), 'partial');
      const pending = await s.withService(async (images) => (await images.content.writeBytes(Buffer.from('leased, not yet named'))).digest);
      const clean = await checkDataRoot(s.root, { repair: false });
      assert.deepEqual(messages(clean), []);
      assert.equal(clean.live, true);

      const layer = s.app.layerBlobs[0]!.desc.digest;
      writeFileSync(s.blob(layer), 'damaged');
      const found = messages(await checkDataRoot(s.root, { repair: false }));
      assert.equal(found.length, 2, found.join('\n'));
      assert.match(found[0]!, new RegExp(`^corrupt blob ${layer}: its 7 bytes hash to sha256:`));
      assert.match(found[1]!, new RegExp(`^image app:1 \\(${s.app.manifest.desc.digest}\\): layer ${layer} of manifest .* is corrupt$`));
      assert.ok(!found.some((m) => m.includes(pending) || m.includes('ingest')), 'writes in progress are not problems');

      await assert.rejects(checkDataRoot(s.root, { repair: true }), /another ladingd is already running/);
      const out: string[] = [];
      const err: string[] = [];
      assert.equal(await runCheck(['--repair', '--data-root', s.root], (l) => out.push(l), (l) => err.push(l)), 2);
      assert.deepEqual(out, []);
      assert.match(err.join(''), /^ladingd check: another ladingd is already running with data root .*; stop it before repairing\n$/);
      assert.equal(readdirSync(path.join(s.root, 'content', 'ingest')).length, 1, 'nothing removed');

      const liveOut: string[] = [];
      const liveErr: string[] = [];
      assert.equal(await runCheck(['--data-root', s.root], (l) => liveOut.push(l), (l) => liveErr.push(l)), 1);
      assert.equal(liveOut.length, 2);
      assert.match(liveErr.join(''), /a daemon is running: read-only check; ingest files, unused blobs, the blob graph and layer records are not checked/);
    } finally {
      await lock.release();
    }
  });

  it('beside a daemon: an image removed between reading the records and scanning the blobs is no problem', async () => {
    const s = await store();
    const metadata = new SqliteMetadataStore(path.join(s.root, 'metadata.db'), { readonly: true });
    const content = new FsContentStore(path.join(s.root, 'content'));
    try {
      // The records as read before the scan still name app:1; by the time of the scan an rmi had removed
      // it and its blobs (here: its manifest gone, its record gone from the database).
      const stale = await metadata.listImages();
      const app = stale.find((r) => r.name === 'docker.io/library/app:1')!;
      rmSync(s.blob(app.target.digest));
      const removed = Object.create(metadata, {
        listImages: { value: async () => stale },
        imagesByTarget: { value: async (digest: string) => (await metadata.imagesByTarget(digest)).filter((r) => r.name !== app.name) },
      }) as SqliteMetadataStore;
      assert.deepEqual(messages(await checkStore(s.root, { metadata: removed, content }, { repair: false, live: true })), []);
      // Still named after the scan: the missing manifest is a real problem, reported.
      const found = messages(await checkStore(s.root, { metadata, content }, { repair: false, live: true }));
      assert.deepEqual(found, [`image app:1 (${app.target.digest}): its manifest ${app.target.digest} is missing`]);
    } finally {
      await metadata.close();
    }
  });

  it('as a command: problems on stdout one per line, exit 1; clean exit 0; --repair clears the dirty marker', async () => {
    const s = await store();
    writeFileSync(path.join(s.root, 'content', 'ingest', 'left'), 'x');
    writeFileSync(path.join(s.root, DIRTY_MARKER), '1\n');
    const out: string[] = [];
    const err: string[] = [];
    assert.equal(await runCheck([`--data-root=${s.root}`], (l) => out.push(l), (l) => err.push(l)), 1);
    assert.deepEqual(out, ['leftover of an interrupted write: content/ingest/left (1 bytes)\n']);
    assert.match(err.join(''), /: \d+ blob\(s\), 2 image\(s\): 1 problem\(s\)\n$/);
    assert.deepEqual(readdirSync(s.root).includes(DIRTY_MARKER), true, 'a check without --repair leaves the marker');

    out.length = 0;
    assert.equal(await runCheck(['--repair', '--data-root', s.root], (l) => out.push(l), () => undefined), 1);
    assert.deepEqual(out, ['leftover of an interrupted write: content/ingest/left (1 bytes): removed\n']);
    assert.equal(readdirSync(s.root).includes(DIRTY_MARKER), false);

    out.length = 0;
    err.length = 0;
    assert.equal(await runCheck(['--data-root', s.root], (l) => out.push(l), (l) => err.push(l)), 0);
    assert.deepEqual(out, []);
    assert.match(err.join(''), /no problems\n$/);
    assert.equal(await runCheck(['--bogus'], () => undefined, () => undefined), 2);
    assert.equal(await runCheck(['--data-root', path.join(s.root, 'nope')], () => undefined, () => undefined), 2);
  });

  it('reaches what the garbage collector reaches: a manifest below indexes nested as deep as they may be is no orphan', async () => {
    const s = await store();
    // The target and eight indexes below it: the deepest index is at the limit, its manifest one below.
    const indexes: Blob[] = [];
    let below = s.app.manifest.desc;
    for (let i = 0; i < 9; i++) {
      indexes.push(ociIndex([below]));
      below = indexes[indexes.length - 1]!.desc;
    }
    await s.withService((images) => loadLayout(images, [...imageEntries(s.app), ...indexes.map(blobEntry)], [named(below, 'docker.io/library/nested:1')]));
    await s.withService(async (images) => {
      await images.remove('app:1', { force: false, prune: false, platforms: [] });
    });
    const result = await checkDataRoot(s.root, { repair: false });
    assert.deepEqual(messages(result), []);
  });

  it('walks what inspect walks: the partial index is complete as far as it goes', async () => {
    const s = await store();
    await s.withService(async (images) => {
      const facts = await images.inspect('partial:1', { manifests: true });
      assert.equal(facts.manifests?.filter((m) => m.available).length, 2, 'amd64 and its attestation; arm64 is absent');
    });
  });
});
