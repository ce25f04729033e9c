// A data root with many images, written directly through the content store and the metadata store
// (no archives, no daemon): each image has its own small layer, config and manifest. Generating
// 100,000 images means 300,000 fsynced blobs, so finished stores are kept in the bench cache.
import { fork } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FsContentStore } from '../../src/content/fs-content-store.js';
import { ContentReader } from '../../src/content/content-reader.js';
import { TargetFactsStore } from '../../src/images/image-list.js';
import type { BlobEdge, ImageRecord, LayerFacts } from '../../src/metadata/metadata-store.js';
import { SqliteMetadataStore } from '../../src/metadata/sqlite-metadata-store.js';
import { MediaType } from '../../src/oci/media-types.js';
import { blob, layer, ociManifest } from '../../src/archive/testing/image-builder.js';

/**
 * Bump when the generated content changes, so that cached stores are not reused. 2: metadata
 * schema 2 (the blob graph and the list's target facts, written as loads and lists write them).
 */
const GENERATOR_VERSION = 2;
/** Images in flight while generating: the content store fsyncs every blob. */
const PARALLEL = 256;
const CREATED = '2025-06-01T12:00:00Z';

export const LIST_REPO = 'bench-list';

export interface ScaleStore {
  dataRoot: string;
  count: number;
  /** How many images are in LIST_REPO (tags t0000…). */
  listed: number;
  /** Familiar names of `sample` images spread evenly over the store. */
  sample(n: number): string[];
}

function imageName(i: number, listed: number): string {
  const n = String(i).padStart(6, '0');
  return i < listed ? `${LIST_REPO}:t${n}` : `bench-scale-${n}:latest`;
}

function listedFor(count: number): number {
  return count >= 10_000 ? 1_000 : 0;
}

/** The store of `count` images under `cacheDir`, generated (in a child process) unless already there. */
export async function scaleStore(cacheDir: string, count: number, log: (msg: string) => void): Promise<ScaleStore> {
  const dir = path.join(cacheDir, `store-v${GENERATOR_VERSION}-${count}`);
  const marker = path.join(dir, 'complete.json');
  const listed = listedFor(count);
  if (!existsSync(marker)) {
    rmSync(dir, { recursive: true, force: true });
    log(`generating ${count} images in ${dir} (kept for later runs)`);
    const t0 = performance.now();
    const child = fork(fileURLToPath(import.meta.url), [dir, String(count)], {
      execArgv: [],
      env: { ...process.env, UV_THREADPOOL_SIZE: '64' },
      stdio: 'inherit',
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`generating ${count} images failed (exit ${code})`);
    log(`generated ${count} images in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  const meta = JSON.parse(readFileSync(marker, 'utf8')) as { count: number };
  if (meta.count !== count) throw new Error(`${marker}: holds ${meta.count} images, not ${count}`);
  return {
    dataRoot: path.join(dir, 'data'),
    count,
    listed,
    sample(n: number) {
      const step = count / Math.min(n, count);
      return Array.from({ length: Math.min(n, count) }, (_, k) => imageName(Math.floor(k * step), listed));
    },
  };
}

async function generate(dir: string, count: number): Promise<void> {
  const dataRoot = path.join(dir, 'data');
  const content = new FsContentStore(path.join(dataRoot, 'content'));
  await content.init();
  const metadata = new SqliteMetadataStore(path.join(dataRoot, 'metadata.db'));
  const listed = listedFor(count);
  let pending: { record: ImageRecord; layer: LayerFacts; edges: BlobEdge[] }[] = [];
  const flush = async (): Promise<void> => {
    const batch = pending;
    pending = [];
    await metadata.transaction(async (tx) => {
      for (const p of batch) {
        await tx.putLayerFacts(p.layer);
        await tx.putBlobEdges(p.edges);
        await tx.putImage(p.record);
      }
    });
  };

  let next = 0;
  let done = 0;
  const one = async (i: number): Promise<void> => {
    const l = await layer({ [`bench/${i}`]: `image ${i}\n` });
    const layerBlob = blob(l.tar, MediaType.ociLayer);
    const config = blob(
      JSON.stringify({
        created: CREATED,
        architecture: 'amd64',
        os: 'linux',
        config: {
          Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
          Cmd: ['/bin/sh'],
          Labels: { 'org.example.bench.index': String(i) },
        },
        rootfs: { type: 'layers', diff_ids: [l.diffId] },
        history: [{ created: CREATED, created_by: `ADD bench/${i} /bench/` }],
      }),
      MediaType.ociConfig,
    );
    const manifest = ociManifest(config.desc, [layerBlob.desc]);
    for (const b of [layerBlob, config, manifest]) await content.writeBytes(b.data, b.desc);
    const name = imageName(i, listed);
    const normalized = `docker.io/library/${name}`;
    pending.push({
      record: { name: normalized, target: manifest.desc, createdAt: CREATED, updatedAt: CREATED },
      layer: { digest: layerBlob.desc.digest, diffId: l.diffId, unpackedSize: l.unpackedSize },
      edges: [config, layerBlob].map((b) => ({ parent: manifest.desc.digest, child: b.desc.digest })),
    });
    if (pending.length >= 5_000) await flush();
    if (++done % 10_000 === 0) process.stderr.write(`  ${done}/${count} images\n`);
  };
  await Promise.all(
    Array.from({ length: Math.min(PARALLEL, count) }, async () => {
      while (next < count) await one(next++);
    }),
  );
  await flush();
  // The list's facts of every target, as the daemon's first list of each would store them.
  const facts = new TargetFactsStore({ reader: new ContentReader(content, 1_000), metadata });
  const records = await metadata.listImages();
  for (let i = 0; i < records.length; i += 5_000) await facts.snapshot(records.slice(i, i + 5_000));
  await metadata.close();
  writeFileSync(path.join(dir, 'complete.json'), JSON.stringify({ count, generator: GENERATOR_VERSION }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, count] = process.argv.slice(2);
  generate(dir ?? '', Number(count)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
