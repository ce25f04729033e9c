// Property tests of the archive importer: random mutations of small valid archives (plain, gzip,
// zstd; OCI layout and docker-archive) always end in a result or in InvalidArgumentError /
// NotImplementedError (never a TypeError, a RangeError or a hang), and never leave ingest files.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { ContentStore } from '../../src/content/content-store.js';
import { InvalidArgumentError, NotImplementedError } from '../../src/errors.js';
import { MediaType } from '../../src/oci/media-types.js';
import type { ImportLimits } from '../../src/layers/compression.js';
import { importArchive } from '../../src/archive/import-archive.js';
import { buildTar, chunked, tempStore, zstdStored } from '../../src/archive/testing/archive-builder.js';
import { OCI_LAYOUT, blob, blobEntry, compressed, configJson, indexJson, layer, ociManifest } from '../../src/archive/testing/image-builder.js';
import { corpus, fuzzParams } from './fuzz-support.js';

const LIMITS: ImportLimits = { maxUnpackedLayerSize: 8 * 1024 * 1024, maxDecompressionRatio: 200, ratioFloor: 1024 * 1024 };
const RUN_TIMEOUT_MS = 20_000;

let store: ContentStore;
let root: string;
let cleanup: () => void;
const bases: Buffer[] = [];

async function baseArchives(): Promise<Buffer[]> {
  const l = await layer({ 'etc/hostname': 'fuzz\n', 'bin/app': Buffer.alloc(700, 7) });
  const gz = blob(compressed(l, 'gzip'), MediaType.ociLayerGzip);
  const config = blob(configJson([l.diffId]), MediaType.ociConfig);
  const manifest = ociManifest(config.desc, [gz.desc]);
  const target = { ...manifest.desc, annotations: { 'io.containerd.image.name': 'docker.io/library/fuzz:1' }, platform: { architecture: 'amd64', os: 'linux' } };
  const oci = await buildTar([OCI_LAYOUT, blobEntry(gz), blobEntry(config), blobEntry(manifest), indexJson([target])]);

  const id = 'a'.repeat(64);
  const legacy = await buildTar([
    { name: `${id}/`, type: 'directory' },
    { name: `${id}/layer.tar`, data: l.tar },
    { name: `${'b'.repeat(64)}/layer.tar`, type: 'symlink', linkname: `../${id}/layer.tar` },
    { name: 'c.json', data: configJson([l.diffId, l.diffId]) },
    { name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', RepoTags: ['fuzz:2'], Layers: [`${id}/layer.tar`, `${'b'.repeat(64)}/layer.tar`] }]) },
  ]);
  return [oci, legacy, gzipSync(oci), zstdStored(legacy)];
}

type Mutation =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate-block'; block: number }
  | { kind: 'digits'; block: number; field: number; text: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 600 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 2000 }) }),
  fc.record({ kind: fc.constant('duplicate-block' as const), block: fc.nat() }),
  // Header fields: name 0, mode 100, size 124, checksum 148, type 156, linkname 157, magic 257, prefix 345.
  fc.record({
    kind: fc.constant('digits' as const),
    block: fc.nat(),
    field: fc.constantFrom(0, 100, 124, 148, 156, 157, 257, 345),
    text: fc.stringMatching(/^[0-7 x\0/.a-z]{1,12}$/),
  }),
);

function apply(data: Buffer, m: Mutation): Buffer {
  const n = Math.max(data.length, 1);
  switch (m.kind) {
    case 'flip': {
      const out = Buffer.from(data);
      if (out.length > 0) out[m.at % n] = m.value;
      return out;
    }
    case 'truncate':
      return data.subarray(0, m.at % n);
    case 'insert': {
      const at = m.at % n;
      return Buffer.concat([data.subarray(0, at), m.bytes, data.subarray(at)]);
    }
    case 'delete': {
      const at = m.at % n;
      return Buffer.concat([data.subarray(0, at), data.subarray(at + m.length)]);
    }
    case 'duplicate-block': {
      const blocks = Math.max(1, Math.floor(data.length / 512));
      const at = (m.block % blocks) * 512;
      return Buffer.concat([data.subarray(0, at + 512), data.subarray(at, at + 512), data.subarray(at + 512)]);
    }
    case 'digits': {
      const out = Buffer.from(data);
      const blocks = Math.max(1, Math.floor(data.length / 512));
      const at = (m.block % blocks) * 512 + m.field;
      out.write(m.text, Math.min(at, Math.max(0, out.length - m.text.length)), 'latin1');
      return out;
    }
  }
}

/** Imports `data`; a failure must be one of ours, and nothing may stay in ingest. */
async function checkImport(data: Buffer, label: string): Promise<void> {
  const run = importArchive(chunked(data), store, { limits: LIMITS }).then(
    // What the image service stores next: the targets as JSON. A walker-hostile value would throw here.
    (result) => void JSON.stringify(result.images),
    (err: unknown) => {
      if (process.env.LADING_FUZZ_TALLY) console.log('TALLY', String((err as Error)?.message).replace(/sha256:[0-9a-f]{64}/g, 'D').slice(0, 70));
      if (err instanceof InvalidArgumentError || err instanceof NotImplementedError) return undefined;
      throw new Error(`${label}: importArchive failed with ${(err as Error)?.constructor?.name}: ${(err as Error)?.stack}`);
    },
  );
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: importArchive did not settle in ${RUN_TIMEOUT_MS} ms`)), RUN_TIMEOUT_MS);
  });
  try {
    await Promise.race([run, hang]);
  } finally {
    clearTimeout(timer);
  }
  assert.deepEqual(readdirSync(path.join(root, 'ingest')), [], `${label}: nothing left in ingest`);
}

// ------------------------------------------------------------ well-formed tars, fuzzed JSON

const SPECIAL_VALUES: unknown[] = [
  '', null, {}, [], -1, 0.5, 1e300, true, 'x'.repeat(5000), '\u0000', '../../etc/passwd', '/etc/passwd', 'UPPER:tag',
  `sha256:${'0'.repeat(64)}`, 'sha256:zz', MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList,
  { os: 'linux', architecture: 7 }, ['a', 1], { 'io.containerd.image.name': 'docker.io/library/x:1' },
];
const jsonValue: fc.Arbitrary<unknown> = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(...SPECIAL_VALUES));

type JsonPath = Array<string | number>;
function nodePaths(value: unknown, prefix: JsonPath = []): JsonPath[] {
  const out: JsonPath[] = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...nodePaths(v, [...prefix, i])));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...nodePaths(v, [...prefix, k]));
  return out;
}
function setAt(doc: unknown, at: JsonPath, value: unknown, addKey?: string): unknown {
  if (at.length === 0) return addKey !== undefined && doc && typeof doc === 'object' && !Array.isArray(doc) ? { ...doc, [addKey]: value } : value;
  const [head, ...rest] = at;
  const copy = (Array.isArray(doc) ? [...doc] : { ...(doc as object) }) as Record<string | number, unknown>;
  copy[head as string] = setAt(copy[head as string], rest, value, addKey);
  return copy;
}

interface JsonEdit {
  doc: number;
  path: number;
  value: unknown;
  addKey?: string;
}
const jsonEdit: fc.Arbitrary<JsonEdit> = fc.record(
  { doc: fc.nat(), path: fc.nat(), value: jsonValue, addKey: fc.constantFrom('mediaType', 'digest', 'size', 'manifests', 'layers', 'config', 'annotations', 'platform', 'urls', 'Config', 'RepoTags', 'Layers', 'rootfs', 'zzz') },
  { requiredKeys: ['doc', 'path', 'value'] },
);

const sha = (data: Buffer): string => blob(data, 'x').desc.digest;

/** An OCI layout whose JSON documents took `edits`; descriptors of edited children follow them. */
async function fuzzedOci(edits: JsonEdit[]): Promise<Buffer> {
  const l = await layer({ 'etc/hostname': 'fuzz\n' });
  const layerBlob = blob(l.tar, MediaType.ociLayer);
  let config: unknown = JSON.parse(configJson([l.diffId]));
  const configOf = (): Buffer => Buffer.from(JSON.stringify(config));
  let manifest: unknown = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: {}, layers: [layerBlob.desc] };
  let index: unknown = { schemaVersion: 2, manifests: [] };
  const docs = (): unknown[] => [config, manifest, index];
  const set = (i: number, v: unknown): void => {
    if (i === 0) config = v;
    else if (i === 1) manifest = v;
    else index = v;
  };
  // Fill descriptors first, then edit, then fix descriptors that still point at the old content.
  const descOf = (data: Buffer, mediaType: string): Record<string, unknown> => ({ mediaType, digest: sha(data), size: data.length });
  manifest = { ...(manifest as object), config: descOf(configOf(), MediaType.ociConfig) };
  index = { ...(index as object), manifests: [{ ...descOf(Buffer.from(JSON.stringify(manifest)), MediaType.ociManifest), annotations: { 'io.containerd.image.name': 'docker.io/library/fuzz:3' } }] };
  const originalConfig = sha(configOf());
  const originalManifest = sha(Buffer.from(JSON.stringify(manifest)));
  for (const e of edits) {
    const i = e.doc % 3;
    const doc = docs()[i];
    const all = nodePaths(doc);
    set(i, setAt(doc, all[e.path % all.length] ?? [], e.value, e.addKey));
  }
  const fix = (doc: unknown, original: string, data: Buffer): unknown =>
    JSON.parse(
      (JSON.stringify(doc) ?? 'null')
        .replaceAll(original, sha(data))
        .replaceAll(new RegExp(`("digest":"${sha(data)}","size":)\\d+`, 'g'), `$1${data.length}`),
    );
  manifest = fix(manifest, originalConfig, configOf());
  const manifestData = Buffer.from(JSON.stringify(manifest));
  index = fix(index, originalManifest, manifestData);
  return buildTar([
    OCI_LAYOUT,
    blobEntry(layerBlob),
    { name: `blobs/sha256/${sha(configOf()).slice(7)}`, data: configOf() },
    { name: `blobs/sha256/${sha(manifestData).slice(7)}`, data: manifestData },
    { name: 'index.json', data: JSON.stringify(index) },
  ]);
}

/** A docker-archive whose manifest.json and config took `edits`. */
async function fuzzedDocker(edits: JsonEdit[]): Promise<Buffer> {
  const l = await layer({ 'etc/hostname': 'fuzz\n' });
  let config: unknown = JSON.parse(configJson([l.diffId]));
  let manifest: unknown = [{ Config: 'c.json', RepoTags: ['fuzz:4'], Layers: ['l/layer.tar'] }];
  for (const e of edits) {
    const i = e.doc % 2;
    const doc = i === 0 ? config : manifest;
    const all = nodePaths(doc);
    const next = setAt(doc, all[e.path % all.length] ?? [], e.value, e.addKey);
    if (i === 0) config = next;
    else manifest = next;
  }
  return buildTar([
    { name: 'l/layer.tar', data: l.tar },
    { name: 'c.json', data: JSON.stringify(config) ?? 'null' },
    { name: 'manifest.json', data: JSON.stringify(manifest) ?? 'null' },
  ]);
}

describe('archive importer properties', { timeout: 600_000 }, () => {
  before(async () => {
    ({ store, root, cleanup } = await tempStore());
    bases.push(...(await baseArchives()));
  });
  after(() => cleanup?.());

  it('the unmutated archives load', async () => {
    for (const base of bases) await assert.doesNotReject(importArchive(chunked(base), store, { limits: LIMITS }));
  });

  it('replays the corpus', async () => {
    for (const { name, data } of corpus('import-archive')) await checkImport(data, name);
  });

  it('mutated archives: resolve, or reject with InvalidArgumentError or NotImplementedError; no ingest left', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.constantFrom('as-is', 'gzip-after', 'zstd-after'),
        async (which, mutations, wrap) => {
          let data = bases[which % bases.length] ?? Buffer.alloc(0);
          for (const m of mutations) data = apply(data, m);
          if (wrap === 'gzip-after') data = gzipSync(data);
          else if (wrap === 'zstd-after') data = zstdStored(data);
          await checkImport(data, JSON.stringify({ which: which % bases.length, mutations, wrap }).slice(0, 500));
        },
      ),
      fuzzParams(400),
    );
  });

  it('well-formed archives with fuzzed JSON documents: the same guarantees', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(jsonEdit, { minLength: 1, maxLength: 3 }), async (oci, edits) => {
        const data = oci ? await fuzzedOci(edits) : await fuzzedDocker(edits);
        await checkImport(data, `${oci ? 'oci' : 'docker'} ${JSON.stringify(edits).slice(0, 400)}`);
      }),
      fuzzParams(400),
    );
  });
});
