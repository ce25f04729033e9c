// Test images built from scratch: OCI layouts written with Node, archives made from them with skopeo and tar.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { buildTar, type TarEntrySpec } from '../../src/archive/testing/archive-builder.js';
import { runOk } from './exec.js';
import { tempDir } from './paths.js';

export const MT = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  inToto: 'application/vnd.in-toto+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export const BUSYBOX = '/bin/busybox';

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
}

/** One platform's image: the manifest and everything under it. */
export interface PlatformImage {
  platform: Platform;
  manifest: Descriptor;
  config: Descriptor;
  /** The config as written (parsed back from its bytes). */
  configJson: ImageConfig;
  layers: Descriptor[];
  diffIds: string[];
  /** `Created` as Docker prints it (RFC3339Nano, UTC), or undefined when the config has none. */
  created: string | undefined;
  /** Comment of the last history entry, which inspect reports as `Comment`. */
  comment: string;
}

export interface AttestationImage {
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  /** The digest of the image manifest it attests (`vnd.docker.reference.digest`). */
  for: string;
}

export interface ImageFixture {
  /** Normalized reference, e.g. `docker.io/library/lading-single:v1`. */
  ref: string;
  /** Familiar form, as Docker prints it: `lading-single:v1`. */
  familiar: string;
  /** Familiar repository: `lading-single`. */
  repo: string;
  tag: string;
  /** OCI image layout directory. */
  layoutDir: string;
  /** The descriptor index.json points at; its digest is the image Id after a load. */
  target: Descriptor;
  id: string;
  /** Image manifests in index order (one for a single-platform image). */
  images: PlatformImage[];
  attestation?: AttestationImage;
  /** Digests that the index names but the layout lacks. */
  missing: string[];
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config: Record<string, unknown>;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: Array<Record<string, unknown>>;
}

export function sha256(data: Uint8Array | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

export function hex(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1);
}

// ---------------------------------------------------------------- tars

/** Reads every regular file of a tar into memory (test archives are small). */
export async function untar(data: Buffer): Promise<Map<string, Buffer>> {
  const extract = tar.extract();
  const files = new Map<string, Buffer>();
  const done = (async () => {
    for await (const entry of extract) {
      const parts: Buffer[] = [];
      for await (const chunk of entry) parts.push(chunk as Buffer);
      if (entry.header.type === 'file') files.set(path.posix.normalize(entry.header.name), Buffer.concat(parts));
    }
  })();
  extract.end(data);
  await done;
  return files;
}

// ---------------------------------------------------------------- layouts

/** Collects blobs for an OCI image layout; `write` puts them on disk. */
class LayoutBuilder {
  readonly blobs = new Map<string, Buffer>();

  add(mediaType: string, data: Buffer, extra: Partial<Descriptor> = {}): Descriptor {
    const digest = sha256(data);
    this.blobs.set(digest, data);
    return { mediaType, digest, size: data.length, ...extra };
  }

  addJson(mediaType: string, value: unknown, extra: Partial<Descriptor> = {}): Descriptor {
    return this.add(mediaType, Buffer.from(JSON.stringify(value)), extra);
  }

  write(dir: string, top: Descriptor, omit: ReadonlySet<string>): void {
    mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(path.join(dir, 'index.json'), JSON.stringify(indexOf([top])));
    for (const [digest, data] of this.blobs) {
      if (!omit.has(digest)) writeFileSync(path.join(dir, 'blobs', 'sha256', hex(digest)), data);
    }
  }
}

function indexOf(manifests: Descriptor[]): Record<string, unknown> {
  return { schemaVersion: 2, mediaType: MT.index, manifests };
}

function platformString(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

let busyboxBytes: Buffer | undefined;
function busybox(): Buffer {
  busyboxBytes ??= readFileSync(BUSYBOX);
  return busyboxBytes;
}

interface PlatformSpec {
  platform: Platform;
  /** Written verbatim into the config; undefined leaves `created` out everywhere. */
  created?: string;
  /** What Docker should print for it. */
  expectCreated?: string;
  /** Distinguishes the bytes of otherwise equal images. */
  marker: string;
  gzipText: boolean;
}

async function buildPlatformImage(lb: LayoutBuilder, spec: PlatformSpec): Promise<PlatformImage> {
  const plat = platformString(spec.platform);
  const bbTar = await buildTar([
    { name: 'bin/', type: 'directory' },
    { name: 'bin/busybox', type: 'file', data: busybox(), mode: 0o755 },
    ...['sh', 'ls', 'cat', 'echo', 'true'].map(
      (n): TarEntrySpec => ({ name: `bin/${n}`, type: 'symlink', linkname: 'busybox' }),
    ),
    { name: 'etc/', type: 'directory' },
    { name: 'etc/lading-platform', type: 'file', data: `${plat} ${spec.marker}\n` },
  ]);
  const textTar = await buildTar([
    { name: 'srv/', type: 'directory' },
    { name: 'srv/hello.txt', type: 'file', data: `hello from ${spec.marker} on ${plat}\n` },
  ]);
  const layers = [
    lb.add(MT.layerGzip, gzipSync(bbTar)),
    spec.gzipText ? lb.add(MT.layerGzip, gzipSync(textTar)) : lb.add(MT.layer, textTar),
  ];
  const diffIds = [sha256(bbTar), sha256(textTar)];
  const at = spec.created !== undefined ? { created: spec.created } : {};
  const comment = 'buildkit.dockerfile.v0';
  // Keys deliberately unsorted: the daemon must sort Config.
  const containerConfig = {
    WorkingDir: '/srv',
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `LADING_MARKER=${spec.marker}`],
    Cmd: ['/bin/sh'],
    Labels: {
      'org.opencontainers.image.title': `lading ${spec.marker}`,
      'com.example.platform': plat,
      'com.example.html': '<b>&</b>',
    },
    ExposedPorts: { '8080/tcp': {} },
    StopSignal: 'SIGQUIT',
  };
  const configJson: ImageConfig = {
    ...at,
    author: 'Lading Tests <tests@lading.invalid>',
    architecture: spec.platform.architecture,
    os: spec.platform.os,
    ...(spec.platform.variant ? { variant: spec.platform.variant } : {}),
    config: containerConfig,
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: [
      { ...at, created_by: 'ADD busybox /bin/ # buildkit', comment: 'busybox' },
      { ...at, created_by: 'ENV LADING_MARKER', comment, empty_layer: true },
      { ...at, created_by: 'COPY hello.txt /srv/ # buildkit', comment },
    ],
  };
  const config = lb.addJson(MT.config, configJson);
  const manifest = lb.addJson(
    MT.manifest,
    { schemaVersion: 2, mediaType: MT.manifest, config, layers },
    { platform: spec.platform },
  );
  return {
    platform: spec.platform,
    manifest,
    config,
    configJson,
    layers,
    diffIds,
    created: spec.expectCreated,
    comment,
  };
}

/** Predicate types BuildKit writes: an SPDX SBOM and SLSA provenance. */
export const SPDX_PREDICATE = 'https://spdx.dev/Document';
export const SLSA_PREDICATE = 'https://slsa.dev/provenance/v0.2';

/**
 * A buildkit-style attestation manifest for `subject`: SLSA provenance, and with `sbom` first an
 * SPDX SBOM statement, each layer annotated with its in-toto predicate type.
 */
function buildAttestation(lb: LayoutBuilder, subject: Descriptor, marker: string, opts: { sbom?: boolean } = {}): AttestationImage {
  const statementOf = (predicateType: string, predicate: object): object => ({
    _type: 'https://in-toto.io/Statement/v0.1',
    predicateType,
    subject: [{ name: `pkg:docker/lading-${marker}`, digest: { sha256: hex(subject.digest) } }],
    predicate,
  });
  const layers: Descriptor[] = [];
  if (opts.sbom) {
    const sbom = statementOf(SPDX_PREDICATE, {
      spdxVersion: 'SPDX-2.3',
      dataLicense: 'CC0-1.0',
      SPDXID: 'SPDXRef-DOCUMENT',
      name: `sbom-lading-${marker}`,
      packages: [{ name: 'busybox', SPDXID: 'SPDXRef-Package-busybox', versionInfo: 'static' }],
    });
    layers.push(lb.addJson(MT.inToto, sbom, { annotations: { 'in-toto.io/predicate-type': SPDX_PREDICATE } }));
  }
  const provenance = statementOf(SLSA_PREDICATE, { builder: { id: 'lading-tests' }, buildType: 'https://mobyproject.org/buildkit@v1' });
  layers.push(lb.addJson(MT.inToto, provenance, { annotations: { 'in-toto.io/predicate-type': SLSA_PREDICATE } }));
  const config = lb.addJson(MT.config, {
    architecture: 'unknown',
    os: 'unknown',
    config: {},
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
  });
  const manifest = lb.addJson(
    MT.manifest,
    { schemaVersion: 2, mediaType: MT.manifest, config, layers },
    {
      annotations: {
        'vnd.docker.reference.digest': subject.digest,
        'vnd.docker.reference.type': 'attestation-manifest',
      },
      platform: { architecture: 'unknown', os: 'unknown' },
    },
  );
  return { manifest, config, layers, for: subject.digest };
}

function names(repo: string, tag: string): Pick<ImageFixture, 'ref' | 'familiar' | 'repo' | 'tag'> {
  return { ref: `docker.io/library/${repo}:${tag}`, familiar: `${repo}:${tag}`, repo, tag };
}

/** Annotations as `docker save` writes them; skopeo's `oci:DIR:TAG` finds the entry by ref.name. */
function topAnnotations(repo: string, tag: string): Record<string, string> {
  return { 'io.containerd.image.name': names(repo, tag).ref, 'org.opencontainers.image.ref.name': tag };
}

function finish(
  lb: LayoutBuilder,
  repo: string,
  tag: string,
  target: Descriptor,
  images: PlatformImage[],
  attestation: AttestationImage | undefined,
  missing: string[],
): ImageFixture {
  const layoutDir = path.join(tempDir('layout'), 'layout');
  const top = { ...target, annotations: topAnnotations(repo, tag) };
  lb.write(layoutDir, top, new Set(missing));
  return {
    ...names(repo, tag),
    layoutDir,
    target: top,
    id: target.digest,
    images,
    ...(attestation ? { attestation } : {}),
    missing,
  };
}

const cache = new Map<string, Promise<ImageFixture>>();
function cached(key: string, build: () => Promise<ImageFixture>): Promise<ImageFixture> {
  let p = cache.get(key);
  if (!p) {
    p = build();
    cache.set(key, p);
  }
  return p;
}

/** (a) linux/amd64, one manifest; `created` has trailing zero nanoseconds that Docker drops. */
export function singlePlatformImage(): Promise<ImageFixture> {
  return cached('single', async () => {
    const lb = new LayoutBuilder();
    const img = await buildPlatformImage(lb, {
      platform: { architecture: 'amd64', os: 'linux' },
      created: '2025-05-30T16:20:41.123000000Z',
      expectCreated: '2025-05-30T16:20:41.123Z',
      marker: 'single',
      gzipText: false,
    });
    return finish(lb, 'lading-single', 'v1', img.manifest, [img], undefined, []);
  });
}

/** (d) linux/amd64 whose config and history have no `created`. */
export function noCreatedImage(): Promise<ImageFixture> {
  return cached('nocreated', async () => {
    const lb = new LayoutBuilder();
    const img = await buildPlatformImage(lb, {
      platform: { architecture: 'amd64', os: 'linux' },
      marker: 'nocreated',
      gzipText: true,
    });
    return finish(lb, 'lading-nocreated', 'v1', img.manifest, [img], undefined, []);
  });
}

export interface MultiOptions {
  repo?: string;
  tag?: string;
  /** Leave this platform's manifest, config and layers out of the layout (c). */
  omit?: 'arm64';
  /** The attestation carries an SPDX SBOM statement before its SLSA provenance. */
  sbom?: boolean;
}

/**
 * (b) An index of linux/amd64 and linux/arm64/v8 plus an attestation for amd64; (c) with `omit`.
 * Both platforms carry the host's busybox: nothing runs them, only their digests matter.
 */
export function multiPlatformImage(opts: MultiOptions = {}): Promise<ImageFixture> {
  const repo = opts.repo ?? (opts.omit ? 'lading-partial' : 'lading-multi');
  const tag = opts.tag ?? 'v1';
  return cached(`multi:${repo}:${tag}:${opts.omit ?? ''}:${opts.sbom ?? ''}`, async () => {
    const lb = new LayoutBuilder();
    const amd64 = await buildPlatformImage(lb, {
      platform: { architecture: 'amd64', os: 'linux' },
      created: '2026-01-01T00:00:00Z',
      expectCreated: '2026-01-01T00:00:00Z',
      marker: repo,
      gzipText: true,
    });
    const arm64 = await buildPlatformImage(lb, {
      platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
      created: '2026-01-01T00:00:00.500Z',
      expectCreated: '2026-01-01T00:00:00.5Z',
      marker: repo,
      gzipText: false,
    });
    const attestation = buildAttestation(lb, amd64.manifest, repo, { sbom: opts.sbom ?? false });
    const index = lb.addJson(MT.index, indexOf([amd64.manifest, arm64.manifest, attestation.manifest]));
    const missing = opts.omit ? [arm64.manifest, arm64.config, ...arm64.layers].map((d) => d.digest) : [];
    return finish(lb, repo, tag, index, [amd64, arm64], attestation, missing);
  });
}

// ---------------------------------------------------------------- archives

const SKOPEO_TIMEOUT = 120_000;

function archivePath(fx: ImageFixture, kind: string): string {
  return path.join(tempDir('archive'), `${fx.repo}-${fx.tag}.${kind}.tar`);
}

/**
 * `skopeo copy oci:DIR:TAG docker-archive:FILE:repo:tag` (one platform: the host's, or `platform`).
 * skopeo decompresses layers and rewrites the manifest as Docker schema 2.
 */
export async function dockerArchive(
  fx: ImageFixture,
  opts: { name?: string; platform?: Platform } = {},
): Promise<string> {
  const file = archivePath(fx, `docker-${opts.platform ? platformString(opts.platform).replaceAll('/', '-') : 'host'}`);
  const overrides = opts.platform
    ? [
        '--override-os', opts.platform.os,
        '--override-arch', opts.platform.architecture,
        ...(opts.platform.variant ? ['--override-variant', opts.platform.variant] : []),
      ]
    : [];
  rmSync(file, { force: true });
  await runOk(
    'skopeo',
    [...overrides, 'copy', '--quiet', `oci:${fx.layoutDir}:${fx.tag}`, `docker-archive:${file}:${opts.name ?? fx.familiar}`],
    { timeoutMs: SKOPEO_TIMEOUT },
  );
  return file;
}

/**
 * `skopeo copy --all oci:DIR:TAG oci-archive:FILE:REF`. skopeo keeps the manifests byte for byte and
 * writes REF as the only annotation, `org.opencontainers.image.ref.name`, of index.json's entry.
 */
export async function ociArchive(fx: ImageFixture, ref: string = fx.ref): Promise<string> {
  const file = archivePath(fx, 'oci');
  rmSync(file, { force: true });
  await runOk('skopeo', ['copy', '--quiet', '--all', '--preserve-digests', '--dest-oci-accept-uncompressed-layers', `oci:${fx.layoutDir}:${fx.tag}`, `oci-archive:${file}:${ref}`], {
    timeoutMs: SKOPEO_TIMEOUT,
  });
  return file;
}

/** A plain tar of the layout, as `docker save` would lay it out without manifest.json. */
export async function layoutTar(fx: ImageFixture): Promise<string> {
  const file = archivePath(fx, 'layout');
  await runOk('tar', ['-C', fx.layoutDir, '-cf', file, 'oci-layout', 'index.json', 'blobs']);
  return file;
}

/**
 * The manifest containerd's importer (and so Docker 28's `docker load`) synthesizes for a docker-archive:
 * compact JSON, Docker media types, each layer typed by whether it starts with the gzip magic.
 */
export async function dockerArchiveManifest(
  file: string,
): Promise<{ target: Descriptor; config: Descriptor; layers: Descriptor[] }> {
  const files = await untar(readFileSync(file));
  const manifestJson = files.get('manifest.json');
  if (!manifestJson) throw new Error(`${file}: no manifest.json`);
  const [entry] = JSON.parse(manifestJson.toString()) as Array<{ Config: string; Layers: string[] }>;
  if (!entry) throw new Error(`${file}: empty manifest.json`);
  const blob = (name: string): Buffer => {
    const b = files.get(path.posix.normalize(name));
    if (!b) throw new Error(`${file}: missing ${name}`);
    return b;
  };
  const cfg = blob(entry.Config);
  const config = { mediaType: MT.dockerConfig, digest: sha256(cfg), size: cfg.length };
  const layers = entry.Layers.map((name) => {
    const b = blob(name);
    const gz = b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
    return { mediaType: gz ? MT.dockerLayerGzip : MT.dockerLayer, digest: sha256(b), size: b.length };
  });
  const bytes = JSON.stringify({ schemaVersion: 2, mediaType: MT.dockerManifest, config, layers });
  return {
    target: { mediaType: MT.dockerManifest, digest: sha256(bytes), size: Buffer.byteLength(bytes) },
    config,
    layers,
  };
}

/** Bytes that are no archive at all. */
export function garbageFile(): string {
  const file = path.join(tempDir('archive'), 'garbage.tar');
  writeFileSync(file, Buffer.from('this is not a tar archive, just some words\n'.repeat(64)));
  return file;
}

/** The first `fraction` of an archive, cut inside a blob. */
export function truncatedCopy(file: string, fraction = 0.5): string {
  const data = readFileSync(file);
  const out = path.join(path.dirname(file), `truncated-${path.basename(file)}`);
  writeFileSync(out, data.subarray(0, Math.floor(data.length * fraction)));
  return out;
}
