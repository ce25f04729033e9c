// Images for the image list and disk usage tests: one OCI layout archive holding several images,
// two of which share their base layer, with every number the daemon should report known up front.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildTar } from '../../src/archive/testing/archive-builder.js';
import { formatG } from '../../src/util/go-size.js';
import { MT, sha256, type Descriptor } from './images.js';
import { tempDir } from './paths.js';

export interface ListImage {
  /** Familiar names given in the archive, in name order; empty for the untagged image. */
  names: string[];
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  /** Unpacked bytes of each layer (its regular files). */
  unpacked: number[];
  chainIds: string[];
  /** Unix seconds of the config's created, 0 without one. */
  created: number;
  /** The config's `Labels` as written; undefined when the key is absent. */
  labels: Record<string, string> | undefined;
  /** Docker 28's list Size: manifest, config, layers and their unpacked bytes. */
  size: number;
}

export interface ListFixture {
  file: string;
  /** By short key: a, b, c, empty, untagged. */
  images: Record<'a' | 'b' | 'c' | 'empty' | 'untagged', ListImage>;
  /** The base layer a and b share. */
  base: { blob: Descriptor; unpacked: number };
}

function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out.at(-1);
    out.push(prev === undefined ? d : 'sha256:' + createHash('sha256').update(`${prev} ${d}`).digest('hex'));
  }
  return out;
}

interface LayerBlob {
  desc: Descriptor;
  data: Buffer;
  diffId: string;
  unpacked: number;
}

async function layerOf(files: Record<string, Buffer>): Promise<LayerBlob> {
  const dirs = [...new Set(Object.keys(files).map((f) => f.slice(0, f.lastIndexOf('/') + 1)))];
  const tar = await buildTar([
    ...dirs.map((name) => ({ name, type: 'directory' as const })),
    ...Object.entries(files).map(([name, data]) => ({ name, type: 'file' as const, data })),
  ]);
  const data = gzipSync(tar);
  return {
    desc: { mediaType: MT.layerGzip, digest: sha256(data), size: data.length },
    data,
    diffId: sha256(tar),
    unpacked: Object.values(files).reduce((n, b) => n + b.length, 0),
  };
}

let built: Promise<ListFixture> | undefined;

/** The archive, built once per test process. */
export function listFixture(): Promise<ListFixture> {
  built ??= build();
  return built;
}

async function build(): Promise<ListFixture> {
  const blobs = new Map<string, Buffer>();
  const add = (mediaType: string, data: Buffer, extra: Partial<Descriptor> = {}): Descriptor => {
    blobs.set(sha256(data), data);
    return { mediaType, digest: sha256(data), size: data.length, ...extra };
  };

  const base = await layerOf({ 'base/data': Buffer.alloc(3000, 'b') });
  const image = async (
    names: string[],
    own: Record<string, Buffer>,
    opts: { base?: boolean; created?: string; labels?: Record<string, string> },
  ): Promise<ListImage> => {
    const layers = [...(opts.base ? [base] : []), await layerOf(own)];
    for (const l of layers) blobs.set(l.desc.digest, l.data);
    const diffIds = layers.map((l) => l.diffId);
    const config = add(
      MT.config,
      Buffer.from(
        JSON.stringify({
          ...(opts.created ? { created: opts.created } : {}),
          architecture: 'amd64',
          os: 'linux',
          config: { Cmd: ['/bin/sh'], ...(opts.labels ? { Labels: opts.labels } : {}) },
          rootfs: { type: 'layers', diff_ids: diffIds },
        }),
      ),
    );
    const manifest = add(
      MT.manifest,
      Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.manifest, config, layers: layers.map((l) => l.desc) })),
    );
    const unpacked = layers.map((l) => l.unpacked);
    const content = manifest.size + config.size + layers.reduce((n, l) => n + l.desc.size, 0);
    return {
      names,
      manifest,
      config,
      layers: layers.map((l) => l.desc),
      unpacked,
      chainIds: chainIds(diffIds),
      created: opts.created ? Math.floor(Date.parse(opts.created) / 1000) : 0,
      labels: opts.labels,
      size: content + unpacked.reduce((n, u) => n + u, 0),
    };
  };

  const images = {
    a: await image(['lading-list-a:v1'], { 'a/data': Buffer.alloc(100, 'a') }, {
      base: true,
      created: '2024-03-01T00:00:00Z',
      labels: { 'com.example.tier': 'a', 'com.example.html': '<b>&</b>' },
    }),
    b: await image(['lading-list-alias:v1', 'lading-list-b:latest', 'lading-list-b:v1'], { 'b/data': Buffer.alloc(200, 'b') }, {
      base: true,
      created: '2024-06-01T00:00:00.75Z',
      labels: { 'com.example.tier': 'b' },
    }),
    c: await image(['lading-list-c:v1'], { 'c/data': Buffer.alloc(300, 'c') }, { created: '2023-01-01T00:00:00Z' }),
    empty: await image(['lading-list-empty:v1'], { 'e/data': Buffer.alloc(50, 'e') }, { labels: {} }),
    untagged: await image([], { 'u/data': Buffer.alloc(70, 'u') }, {
      created: '2022-01-01T00:00:00Z',
      labels: { 'com.example.tier': 'untagged' },
    }),
  };

  const entries = Object.values(images).flatMap((img) =>
    img.names.length === 0
      ? [img.manifest]
      : img.names.map((name) => ({ ...img.manifest, annotations: { 'io.containerd.image.name': `docker.io/library/${name}` } })),
  );
  const files = [
    { name: 'oci-layout', type: 'file' as const, data: JSON.stringify({ imageLayoutVersion: '1.0.0' }) },
    { name: 'index.json', type: 'file' as const, data: JSON.stringify({ schemaVersion: 2, mediaType: MT.index, manifests: entries }) },
    { name: 'blobs/', type: 'directory' as const },
    { name: 'blobs/sha256/', type: 'directory' as const },
    ...[...blobs].map(([digest, data]) => ({ name: `blobs/sha256/${digest.slice(7)}`, type: 'file' as const, data })),
  ];
  const file = path.join(tempDir('list'), 'list-images.tar');
  writeFileSync(file, await buildTar(files));
  return { file, images, base: { blob: base.desc, unpacked: base.unpacked } };
}

/** go-units' HumanSizeWithPrecision: `docker images` uses 3 digits, `docker system df` HumanSize's 4. */
export function humanSize(bytes: number, precision = 4): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < units.length - 1) {
    size /= 1000;
    i++;
  }
  return formatG(size, precision) + units[i];
}
