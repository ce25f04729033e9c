// Removal racing a reader and a load, made deterministic by a content store that pauses on cue:
// the sweep must never delete what an inspect is walking or what a load has just committed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { BlobWriter, ContentStore } from '../content/content-store.js';
import { FsContentStore } from '../content/fs-content-store.js';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.js';
import { chunked } from '../archive/testing/archive-builder.js';
import { ImageService } from './image-service.js';
import { digestsOf, layoutArchive, manifestImage } from './testing/mutation-fixture.js';

interface Pause {
  reached: Promise<void>;
  release: () => void;
}

/** A content store that can hold the next read or commit of a digest until released. */
class PausingStore implements ContentStore {
  private readonly pauses = new Map<string, { kind: 'read' | 'commit'; reached: () => void; gate: Promise<void> }>();

  constructor(private readonly inner: FsContentStore) {}

  pauseNext(kind: 'read' | 'commit', digest: string): Pause {
    let reached!: () => void;
    let release!: () => void;
    const reachedP = new Promise<void>((r) => (reached = r));
    const gate = new Promise<void>((r) => (release = r));
    this.pauses.set(digest, { kind, reached, gate });
    return { reached: reachedP, release };
  }

  private async maybePause(kind: 'read' | 'commit', digest: string): Promise<void> {
    const pause = this.pauses.get(digest);
    if (!pause || pause.kind !== kind) return;
    this.pauses.delete(digest);
    pause.reached();
    await pause.gate;
  }

  info = (d: string) => this.inner.info(d);
  has = (d: string) => this.inner.has(d);
  readBytes = async (d: string, max?: number) => {
    await this.maybePause('read', d);
    return this.inner.readBytes(d, max);
  };
  createReadStream = (d: string) => this.inner.createReadStream(d);
  openWriter = async (): Promise<BlobWriter> => {
    const w = await this.inner.openWriter();
    return {
      write: (c) => w.write(c),
      get written() {
        return w.written;
      },
      commit: async (expected, beforePublish) => {
        const info = await w.commit(expected, beforePublish);
        await this.maybePause('commit', info.digest);
        return info;
      },
      abort: () => w.abort(),
    };
  };
  writeBytes = async (data: Uint8Array) => {
    const w = await this.openWriter();
    await w.write(data);
    return w.commit();
  };
  delete = (d: string) => this.inner.delete(d);
  list = () => this.inner.list();
  cleanIngest = () => this.inner.cleanIngest();
}

describe('garbage collection racing readers and loads', () => {
  const roots: string[] = [];
  after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

  async function setup(): Promise<{ service: ImageService; store: PausingStore; fs: FsContentStore }> {
    const root = mkdtempSync(path.join(tmpdir(), 'lading-races-'));
    roots.push(root);
    const fs = new FsContentStore(root);
    await fs.init();
    const store = new PausingStore(fs);
    return { service: new ImageService(store, new SqliteMetadataStore(':memory:')), store, fs };
  }

  it('an inspect in progress sees the whole image though it is removed meanwhile', async () => {
    const { service, store, fs } = await setup();
    const img = await manifestImage({ marker: 'race-inspect', labels: { x: 'y' } });
    await service.load(chunked(await layoutArchive([{ image: img, name: 'docker.io/library/race:1' }])));
    const [, config] = digestsOf(img);
    service.reader.forget(config!);
    const pause = store.pauseNext('read', config!);
    const inspecting = service.inspect('race:1', { manifests: false });
    await pause.reached;
    const removing = service.remove('race:1', { force: false, prune: true, platforms: [] });
    await new Promise((r) => setTimeout(r, 20));
    pause.release();
    const doc = await inspecting;
    assert.equal(doc.architecture, 'amd64', 'the config was still there to read');
    assert.deepEqual(doc.config?.Labels, { x: 'y' });
    assert.deepEqual(await removing, [{ Untagged: 'race:1' }, { Deleted: img.target.digest }]);
    for (const digest of digestsOf(img)) assert.equal(await fs.has(digest), false, `${digest} went after the inspect`);
  });

  it('a load that commits a blob the removal is about to delete keeps it', async () => {
    const { service, store, fs } = await setup();
    const img = await manifestImage({ marker: 'race-load' });
    const archive = await layoutArchive([{ image: img, name: 'docker.io/library/race:2' }]);
    await service.load(chunked(archive));
    const [, , own] = digestsOf(img);
    // The second load stops right after committing a layer the first copy already has.
    const pause = store.pauseNext('commit', own!);
    const loading = service.load(chunked(archive));
    await pause.reached;
    const removing = service.remove('race:2', { force: false, prune: true, platforms: [] });
    const early = await Promise.race([removing.then(() => 'done'), new Promise<'waiting'>((r) => setTimeout(() => r('waiting'), 50))]);
    assert.equal(early, 'waiting', 'the sweep waits for the commit in progress');
    pause.release();
    await loading;
    assert.deepEqual(await removing, [{ Untagged: 'race:2' }, { Deleted: img.target.digest }]);
    // Whichever order they ended in, an image that exists has all its blobs.
    const exists = (await service.metadata.getImage('docker.io/library/race:2')) !== undefined;
    for (const digest of digestsOf(img)) assert.equal(await fs.has(digest), exists, `${digest} present iff the image exists`);
    assert.ok(exists, 'the load named the image after the removal');
  });
});
