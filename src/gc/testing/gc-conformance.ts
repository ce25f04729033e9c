/**
 * Garbage collection against writes in flight, as a conformance suite over the stores: the
 * GarbageCollector with its leases runs over any ContentStore and MetadataStore, and a sweep must
 * keep what a write in progress leased and what an image names, and take what neither holds.
 * Run against every pair of implementations (gc-conformance.test.ts).
 */
import assert from 'node:assert/strict';
import type { BlobInfo, ContentStore } from '../../content/content-store.js';
import { overrideContentStore } from '../../content/testing/content-store-override.js';
import type { MetadataStore } from '../../metadata/metadata-store.js';
import { MediaType } from '../../oci/media-types.js';
import type { Descriptor } from '../../oci/types.js';
import { runConformance, type ConformanceCheck, type HarnessFactory } from '../../util/conformance.js';
import { ContentReader } from '../../content/content-reader.js';
import { GarbageCollector } from '../garbage-collector.js';
import { Leases } from '../leases.js';

export interface StoresUnderTest {
  content: ContentStore;
  metadata: MetadataStore;
}

interface Image {
  target: Descriptor;
  /** Every blob, the target first. */
  digests: string[];
}

const AT = '2026-01-01T00:00:00.000000000Z';
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sorted = (values: Iterable<string>): string[] => [...values].sort();

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** `content` whose next delete of `digest` stops until released: a sweep caught while it deletes. */
function pausingDeletes(content: ContentStore): { store: ContentStore; pause(digest: string): { reached: Promise<void>; release(): void } } {
  const pauses = new Map<string, { reached: () => void; gate: Promise<void> }>();
  const store = overrideContentStore(content, {
    async delete(d) {
      const pause = pauses.get(d);
      if (pause) {
        pauses.delete(d);
        pause.reached();
        await pause.gate;
      }
      return content.delete(d);
    },
  });
  return {
    store,
    pause(digest) {
      const reached = deferred();
      const gate = deferred();
      pauses.set(digest, { reached: reached.resolve, gate: gate.promise });
      return { reached: reached.promise, release: gate.resolve };
    },
  };
}

function collector(content: ContentStore, metadata: MetadataStore): GarbageCollector {
  return new GarbageCollector(content, metadata, new ContentReader(content), new Leases());
}

async function writeJson(content: ContentStore, mediaType: string, doc: unknown): Promise<Descriptor> {
  const info = await content.writeBytes(Buffer.from(JSON.stringify(doc)));
  return { mediaType, ...info };
}

/** A manifest, its config and its layers (`shared` first), written through `content`. */
async function writeImage(content: ContentStore, marker: string, shared: Descriptor[] = []): Promise<Image> {
  const own: BlobInfo = await content.writeBytes(Buffer.from(`layer of ${marker}`));
  const layers = [...shared, { mediaType: MediaType.ociLayer, ...own }];
  const config = await writeJson(content, MediaType.ociConfig, { architecture: 'amd64', os: 'linux', marker });
  const target = await writeJson(content, MediaType.ociManifest, { schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers });
  return { target, digests: [target.digest, config.digest, ...layers.map((l) => l.digest)] };
}

/** Names `image` with its blob graph, in one transaction, as a load or pull does. */
async function name(gc: GarbageCollector, metadata: MetadataStore, imageName: string, target: Descriptor): Promise<void> {
  const { edges } = await gc.graphOf([target]);
  await metadata.transaction(async (tx) => {
    await tx.putBlobEdges(edges);
    await tx.putImage({ name: imageName, target, createdAt: AT, updatedAt: AT });
  });
}

async function present(content: ContentStore, digests: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const d of digests) if (await content.has(d)) out.push(d);
  return out.sort();
}

export const gcChecks: Array<ConformanceCheck<StoresUnderTest>> = [
  {
    name: 'a blob leased by a write in progress survives a sweep; released and unnamed, it goes',
    async run({ content, metadata }) {
      const gc = collector(content, metadata);
      const held: string[] = [];
      const image = await writeImage(gc.leasingStore(held), 'leased');
      assert.deepEqual(sorted(new Set(held)), sorted(image.digests), 'every commit took its lease');
      assert.deepEqual(await gc.collect(image.digests), []);
      assert.deepEqual(await present(content, image.digests), sorted(image.digests));
      gc.leases.release(held);
      assert.deepEqual(sorted(await gc.collect(image.digests)), sorted(image.digests));
      assert.deepEqual(await present(content, image.digests), []);
    },
  },
  {
    name: 'once an image names them, its blobs survive sweeps; when it goes, they go with their records',
    async run({ content, metadata }) {
      const gc = collector(content, metadata);
      const held: string[] = [];
      const image = await writeImage(gc.leasingStore(held), 'named');
      const layer = image.digests.at(-1)!;
      await name(gc, metadata, 'docker.io/library/named:1', image.target);
      await metadata.putLayerFacts({ digest: layer, diffId: layer, unpackedSize: 1 });
      await metadata.addBlobSources([{ digest: layer, registry: 'registry-1.docker.io', repository: 'library/named' }]);
      gc.leases.release(held);
      assert.deepEqual(await gc.collect(image.digests), [], 'a sweep takes nothing a named image reaches');
      assert.deepEqual(await present(content, image.digests), sorted(image.digests));
      await metadata.deleteImage('docker.io/library/named:1');
      assert.deepEqual(sorted(await gc.collect(image.digests)), sorted(image.digests));
      assert.deepEqual(await present(content, image.digests), []);
      assert.deepEqual(await metadata.listBlobEdges(), [], 'the edges went');
      assert.equal(await metadata.getLayerFacts(layer), undefined, 'the layer facts went');
      assert.deepEqual(await metadata.blobSources(layer), [], 'the sources went');
    },
  },
  {
    name: 'a layer shared with another image stays when one of them goes',
    async run({ content, metadata }) {
      const gc = collector(content, metadata);
      const base = { mediaType: MediaType.ociLayer, ...(await content.writeBytes(Buffer.from('shared base'))) };
      const a = await writeImage(content, 'a', [base]);
      const b = await writeImage(content, 'b', [base]);
      await name(gc, metadata, 'docker.io/library/a:1', a.target);
      await name(gc, metadata, 'docker.io/library/b:1', b.target);
      await metadata.deleteImage('docker.io/library/a:1');
      assert.deepEqual(sorted(await gc.collect(a.digests)), sorted(a.digests.filter((d) => d !== base.digest)));
      assert.deepEqual(await present(content, b.digests), sorted(b.digests));
    },
  },
  {
    name: 'a commit in progress when a sweep starts keeps its blob: the sweep waits, then sees the lease',
    async run({ content, metadata }) {
      const gc = collector(content, metadata);
      const bytes = Buffer.from('committed during a sweep');
      const { digest } = await content.writeBytes(bytes);
      const held: string[] = [];
      const writer = await gc.leasingStore(held).openWriter();
      await writer.write(bytes);
      const committing = writer.commit();
      const deleted = await gc.collect([digest]);
      await committing;
      assert.deepEqual(deleted, []);
      assert.equal(await content.has(digest), true);
      gc.leases.release(held);
      assert.deepEqual(await gc.collect([digest]), [digest]);
    },
  },
  {
    name: 'a commit that comes while a sweep deletes its blob waits for it, and its blob is there after',
    async run({ content, metadata }) {
      const bytes = Buffer.from('deleted while being written again');
      const { digest } = await content.writeBytes(bytes);
      const pausing = pausingDeletes(content);
      const gc = collector(pausing.store, metadata);
      const held: string[] = [];
      const writer = await gc.leasingStore(held).openWriter();
      await writer.write(bytes);
      const pause = pausing.pause(digest);
      const sweeping = gc.collect([digest]);
      await pause.reached;
      let committed = false;
      const committing = writer.commit().then(() => (committed = true));
      await tick();
      assert.equal(committed, false, 'the commit waits for the sweep');
      pause.release();
      assert.deepEqual(await sweeping, [digest]);
      await committing;
      assert.equal(await content.has(digest), true, 'the commit wrote it anew');
      assert.ok(gc.leases.isHeld(digest), 'and holds it');
      assert.deepEqual(await gc.collect([digest]), []);
    },
  },
  {
    name: 'a sweep asked while a naming transaction is open, its leases gone, waits and keeps what it names',
    async run({ content, metadata }) {
      const gc = collector(content, metadata);
      const held: string[] = [];
      const image = await writeImage(gc.leasingStore(held), 'naming');
      const { edges } = await gc.graphOf([image.target]);
      const written = deferred();
      const go = deferred();
      // A load names its images in a read section, awaiting between its writes.
      const naming = gc.reading(() =>
        metadata.transaction(async (tx) => {
          await tx.putBlobEdges(edges);
          await tick();
          await tx.putImage({ name: 'docker.io/library/naming:1', target: image.target, createdAt: AT, updatedAt: AT });
          written.resolve();
          await go.promise;
        }),
      );
      await written.promise;
      gc.leases.release(held);
      const sweeping = gc.collect(image.digests);
      await tick();
      go.resolve();
      await naming;
      assert.deepEqual(await sweeping, [], 'the sweep ran after the commit and saw the name');
      assert.deepEqual(await present(content, image.digests), sorted(image.digests));
    },
  },
  {
    name: 'a detached manifest goes with what only it lists, unless an image targets it',
    async run({ content, metadata }) {
      const gc = collector(content, metadata);
      const amd64 = await writeImage(content, 'amd64');
      const arm64 = await writeImage(content, 'arm64');
      const index = await writeJson(content, MediaType.ociIndex, { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [amd64.target, arm64.target] });
      await name(gc, metadata, 'docker.io/library/multi:1', index);
      const detached = new Set([arm64.target.digest]);
      assert.deepEqual(sorted(await gc.collect([...amd64.digests, ...arm64.digests], { detached })), sorted(arm64.digests));
      assert.deepEqual(await present(content, [index.digest, ...amd64.digests]), sorted([index.digest, ...amd64.digests]));
      await name(gc, metadata, 'docker.io/library/single:1', amd64.target);
      assert.deepEqual(await gc.collect(amd64.digests, { detached: new Set([amd64.target.digest]) }), [], 'targeted directly');
    },
  },
];

export function runGarbageCollectionConformance(name: string, factory: HarnessFactory<StoresUnderTest>): void {
  runConformance(`garbage collection conformance: ${name}`, gcChecks, factory);
}
