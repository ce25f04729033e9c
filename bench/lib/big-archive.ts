// A large multi-layer image archive for `docker load`, and the limit a load of it is measured against.
// The archive is an OCI layout tar (as `docker save` writes) whose layers are gzip tars, half of them
// random (incompressible), half text that gzip shrinks several times. It is generated once per size
// and kept in the bench cache.
import { createHash, randomFill } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, openSync, readFileSync, readSync, closeSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { MediaType } from '../../src/oci/media-types.js';
import type { Descriptor } from '../../src/oci/types.js';

const ARCHIVE_VERSION = 1;
const LAYERS = 8;
const FILE_BYTES = 8 * 1024 * 1024;
const CHUNK = 1024 * 1024;
/** How much gzip shrinks the text layers, roughly: sizes them so that the archive comes out near its target. */
const TEXT_RATIO = 5;
export const BIG_IMAGE = 'bench-big:v1';
const LAYER_MTIME = new Date('2025-01-01T00:00:00Z');

export interface BigArchive {
  file: string;
  bytes: number;
  /** Where each gzip layer lies in the archive file. */
  layers: { offset: number; size: number }[];
  /** Sum of the layers' uncompressed sizes. */
  unpackedBytes: number;
}

/** The archive of about `totalMB` megabytes, generated unless the cache has it. */
export async function bigArchive(cacheDir: string, totalMB: number, log: (msg: string) => void): Promise<BigArchive> {
  const dir = path.join(cacheDir, `archive-v${ARCHIVE_VERSION}-${totalMB}MB`);
  const metaFile = path.join(dir, 'meta.json');
  if (!existsSync(metaFile)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    log(`generating a ${totalMB} MB archive in ${dir} (kept for later runs)`);
    const t0 = performance.now();
    const meta = await generate(dir, totalMB);
    writeFileSync(metaFile, JSON.stringify(meta));
    log(`generated ${(meta.bytes / 1e6).toFixed(0)} MB in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  return JSON.parse(readFileSync(metaFile, 'utf8')) as BigArchive;
}

/** Passes bytes through, hashing and counting them. */
class Measure extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.push(chunk);
    cb();
  }
  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

/** Deterministic text: words from a small vocabulary, so gzip finds repeats within its window. */
function textPool(bytes: number): Buffer {
  const words = Array.from({ length: 600 }, (_, i) => `w${(i * 2654435761) % 999983}x${i.toString(36)}`);
  let seed = 42;
  const parts: string[] = [];
  let size = 0;
  while (size < bytes) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const w = (words[seed % words.length] as string) + (seed % 11 === 0 ? '\n' : ' ');
    parts.push(w);
    size += w.length;
  }
  return Buffer.from(parts.join('')).subarray(0, bytes);
}

/** One gzip layer of `unpacked` bytes of random or text files, written to `file`. */
async function writeLayer(file: string, index: number, unpacked: number, kind: 'random' | 'text', pool: Buffer) {
  const pack = tar.pack();
  const diff = new Measure();
  const blob = new Measure();
  const done = pipeline(pack, diff, createGzip({ level: 1 }), blob, createWriteStream(file));
  let chunkNo = 0;
  async function* contents(size: number): AsyncGenerator<Buffer> {
    for (let off = 0; off < size; off += CHUNK, chunkNo++) {
      const n = Math.min(CHUNK, size - off);
      if (kind === 'random') {
        yield await new Promise<Buffer>((resolve, reject) =>
          randomFill(Buffer.alloc(n), (err, buf) => (err ? reject(err) : resolve(buf))),
        );
      } else {
        // A different rotation of the pool for every chunk, stamped with its number: nothing repeats at long range.
        const at = (chunkNo * 7919 * 13) % pool.length;
        const chunk = Buffer.concat([pool.subarray(at), pool.subarray(0, at)]).subarray(0, n);
        chunk.write(`${index}:${chunkNo}`, 0, 'latin1');
        yield chunk;
      }
    }
  }
  for (let left = unpacked, fileNo = 0; left > 0; fileNo++) {
    const size = Math.min(FILE_BYTES, left);
    left -= size;
    const name = `bench/layer${index}/${kind}-${fileNo}.bin`;
    await pipeline(Readable.from(contents(size)), pack.entry({ name, size, mtime: LAYER_MTIME }));
  }
  pack.finalize();
  await done;
  return { digest: blob.digest(), size: blob.bytes, diffId: diff.digest(), unpacked: diff.bytes };
}

async function generate(dir: string, totalMB: number): Promise<BigArchive> {
  const pool = textPool(4 * CHUNK);
  const perLayer = (totalMB * 1024 * 1024) / LAYERS;
  const specs = Array.from({ length: LAYERS }, (_, i) => {
    const kind = i % 2 === 0 ? ('random' as const) : ('text' as const);
    return { kind, unpacked: Math.round(kind === 'random' ? perLayer : perLayer * TEXT_RATIO) };
  });
  // Two layers at a time: gzip runs on the thread pool.
  const layers: { file: string; digest: string; size: number; diffId: string; unpacked: number }[] = [];
  for (let i = 0; i < LAYERS; i += 2) {
    const pair = await Promise.all(
      specs.slice(i, i + 2).map(async (s, k) => {
        const file = path.join(dir, `layer${i + k}.gz`);
        return { file, ...(await writeLayer(file, i + k, s.unpacked, s.kind, pool)) };
      }),
    );
    layers.push(...pair);
  }

  const layerDescs: Descriptor[] = layers.map((l) => ({ mediaType: MediaType.ociLayerGzip, digest: l.digest, size: l.size }));
  const created = '2025-06-01T12:00:00Z';
  const configBytes = Buffer.from(
    JSON.stringify({
      created,
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: layers.map((_, i) => ({ created, created_by: `ADD layer${i} /bench/` })),
    }),
  );
  const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const config: Descriptor = { mediaType: MediaType.ociConfig, digest: sha(configBytes), size: configBytes.length };
  const manifestBytes = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: layerDescs }),
  );
  const manifest: Descriptor = { mediaType: MediaType.ociManifest, digest: sha(manifestBytes), size: manifestBytes.length };
  const [repo, tag] = BIG_IMAGE.split(':') as [string, string];
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [
      { ...manifest, annotations: { 'io.containerd.image.name': `docker.io/library/${repo}:${tag}`, 'org.opencontainers.image.ref.name': tag } },
    ],
  };

  // Offsets follow from the tar format: a 512-byte header before each entry, data padded to 512.
  const file = path.join(dir, 'archive.tar');
  const pack = tar.pack();
  const done = pipeline(pack, createWriteStream(file));
  let offset = 0;
  const addBytes = async (name: string, data: Buffer): Promise<void> => {
    await new Promise<void>((resolve, reject) => pack.entry({ name }, data, (err) => (err ? reject(err) : resolve())));
    offset += 512 + Math.ceil(data.length / 512) * 512;
  };
  await addBytes('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  await addBytes('index.json', Buffer.from(JSON.stringify(index)));
  await addBytes(`blobs/sha256/${config.digest.slice(7)}`, configBytes);
  await addBytes(`blobs/sha256/${manifest.digest.slice(7)}`, manifestBytes);
  const placed: BigArchive['layers'] = [];
  for (const l of layers) {
    const entry = pack.entry({ name: `blobs/sha256/${l.digest.slice(7)}`, size: l.size });
    await pipeline(createReadStream(l.file), entry);
    placed.push({ offset: offset + 512, size: l.size });
    offset += 512 + Math.ceil(l.size / 512) * 512;
    rmSync(l.file);
  }
  pack.finalize();
  await done;

  const fd = openSync(file, 'r');
  try {
    const magic = Buffer.alloc(2);
    for (const l of placed) {
      readSync(fd, magic, 0, 2, l.offset);
      if (magic[0] !== 0x1f || magic[1] !== 0x8b) throw new Error(`${file}: no gzip layer at offset ${l.offset}`);
    }
  } finally {
    closeSync(fd);
  }
  return { file, bytes: statSync(file).size, layers: placed, unpackedBytes: layers.reduce((n, l) => n + l.unpacked, 0) };
}

/** zlib's default output chunk (16 KiB) costs a thread pool round trip per chunk: 2-8 times slower here. */
const GUNZIP_CHUNK = 256 * 1024;

/**
 * What loading the archive costs at the least, in Node: read the file once, sha256 all of it, gunzip
 * every layer. Resolves the milliseconds it took.
 */
export async function loadLimit(a: BigArchive): Promise<number> {
  const t0 = performance.now();
  const hash = createHash('sha256');
  let pos = 0;
  let layer = 0;
  let gunzip: ReturnType<typeof createGunzip> | undefined;
  let gunzipDone: Promise<void> = Promise.resolve();
  for await (const chunk of createReadStream(a.file, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    let at = 0;
    while (at < chunk.length && layer < a.layers.length) {
      const l = a.layers[layer] as { offset: number; size: number };
      const from = Math.max(at, l.offset - pos);
      if (from >= chunk.length) break;
      const to = Math.min(chunk.length, l.offset + l.size - pos);
      if (!gunzip) {
        const g = createGunzip({ chunkSize: GUNZIP_CHUNK });
        g.on('data', () => undefined);
        gunzipDone = new Promise((resolve, reject) => g.on('end', resolve).on('error', reject));
        gunzip = g;
      }
      if (!gunzip.write(chunk.subarray(from, to))) await new Promise((r) => gunzip?.once('drain', r));
      at = to;
      if (pos + to === l.offset + l.size) {
        gunzip.end();
        await gunzipDone;
        gunzip = undefined;
        layer++;
      }
    }
    pos += chunk.length;
  }
  hash.digest();
  if (layer !== a.layers.length) throw new Error(`${a.file}: found ${layer} of ${a.layers.length} layers`);
  return performance.now() - t0;
}
