// What `GET /images/{name}/json` must answer for a fixture, per shared/docs/inspect-contract.md.
import assert from 'node:assert/strict';
import type { Descriptor, ImageFixture, Platform, PlatformImage } from './images.js';

export const MAX_API = '1.55';
export const MIN_API = '1.24';

/** `a < b` for API versions like `1.9` and `1.44`. */
export function apiBelow(a: string, b: string): boolean {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am !== bm ? am < bm : an < bn;
}

const HOST_ARCH = process.arch === 'x64' ? 'amd64' : process.arch;

/** The platform image Docker picks without `platform=`: the host's if present, else the first available. */
export function hostImage(fx: ImageFixture): PlatformImage {
  const available = fx.images.filter((i) => !fx.missing.includes(i.manifest.digest));
  const img = available.find((i) => i.platform.architecture === HOST_ARCH) ?? available[0];
  if (!img) throw new Error(`${fx.familiar}: no available platform image`);
  return img;
}

export function platformImage(fx: ImageFixture, platform: Platform): PlatformImage {
  const img = fx.images.find(
    (i) => i.platform.os === platform.os && i.platform.architecture === platform.architecture,
  );
  if (!img) throw new Error(`${fx.familiar}: no ${platform.os}/${platform.architecture}`);
  return img;
}

/** `repo:tag` -> `repo` (a registry port is not a tag). */
export function repoOf(familiar: string): string {
  const at = familiar.indexOf('@');
  const name = at >= 0 ? familiar.slice(0, at) : familiar;
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

export interface Expected {
  apiVersion: string;
  id: string;
  /** Compared on mediaType, digest and size. */
  descriptor: Pick<Descriptor, 'mediaType' | 'digest' | 'size'>;
  size: number;
  image: PlatformImage;
  repoTags: string[];
  repoDigests: string[];
}

/** Total bytes of some blobs, e.g. a manifest, its config and its layers. */
export function bytesOf(...ds: ReadonlyArray<Descriptor | readonly Descriptor[]>): number {
  return ds.flat().reduce((n, d) => n + d.size, 0);
}

/** Docker 28's Size: index (if any) + the chosen manifest + its config + its compressed layers. */
function sizeOf(fx: ImageFixture, img: PlatformImage): number {
  const index = fx.target.digest === img.manifest.digest ? 0 : fx.target.size;
  return index + bytesOf(img.manifest, img.config, img.layers);
}

/** Expectation for a fixture loaded from its layout or from skopeo's oci-archive (digests unchanged). */
export function expectImage(
  fx: ImageFixture,
  opts: { apiVersion: string; platform?: Platform; repoTags?: string[] },
): Expected {
  const image = opts.platform ? platformImage(fx, opts.platform) : hostImage(fx);
  const repoTags = opts.repoTags ?? [fx.familiar];
  const target = opts.platform ? image.manifest : fx.target;
  return {
    apiVersion: opts.apiVersion,
    id: target.digest,
    descriptor: target,
    size: sizeOf(fx, image),
    image,
    repoTags,
    // RepoDigests always name the record's target (the index), even with platform=.
    repoDigests: [...new Set(repoTags.map((t) => `${repoOf(t)}@${fx.id}`))],
  };
}

/** Expectation for a docker-archive load: the manifest containerd's importer synthesizes. */
export function expectDockerArchive(
  image: PlatformImage,
  synth: { target: Descriptor; config: Descriptor; layers: Descriptor[] },
  opts: { apiVersion: string; repoTags: string[] },
): Expected {
  return {
    apiVersion: opts.apiVersion,
    id: synth.target.digest,
    descriptor: synth.target,
    size: bytesOf(synth.target, synth.config, synth.layers),
    image,
    repoTags: opts.repoTags,
    repoDigests: opts.repoTags.map((t) => `${repoOf(t)}@${synth.target.digest}`),
  };
}

const LEGACY_CONFIG = {
  AttachStderr: false,
  AttachStdin: false,
  AttachStdout: false,
  Domainname: '',
  Hostname: '',
  Image: '',
  OpenStdin: false,
  StdinOnce: false,
  Tty: false,
};

/**
 * `Config` as Docker sends it: up to 1.51 (28.5) zero values for the always-present keys, legacy
 * keys up to 1.49; from 1.52 (29.7) only what the image sets.
 */
export function expectedConfig(image: PlatformImage | undefined, apiVersion: string): Record<string, unknown> {
  if (!apiBelow(apiVersion, '1.52')) return { ...(image?.configJson.config ?? {}) };
  const merged: Record<string, unknown> = {
    Cmd: null,
    Entrypoint: null,
    Env: null,
    Labels: null,
    OnBuild: null,
    User: '',
    Volumes: null,
    WorkingDir: '',
    ...(apiBelow(apiVersion, '1.50') ? LEGACY_CONFIG : {}),
    ...(image?.configJson.config ?? {}),
  };
  return Object.fromEntries(Object.keys(merged).sort().map((k) => [k, merged[k]]));
}

/** Top-level keys in wire order. */
export function expectedKeys(opts: {
  apiVersion: string;
  created: boolean;
  variant: boolean;
  manifests?: boolean;
  comment?: boolean;
  author?: boolean;
  identity?: boolean;
}): string[] {
  const v = opts.apiVersion;
  const old = apiBelow(v, '1.44');
  if (!apiBelow(v, '1.52')) {
    // Docker 29.7's struct: empty strings left out, Config after Author, no GraphDriver.
    return [
      'Id', 'RepoTags', 'RepoDigests',
      ...(opts.comment ? ['Comment'] : []),
      ...(opts.created ? ['Created'] : []),
      ...(opts.author ? ['Author'] : []),
      'Config', 'Architecture',
      ...(opts.variant ? ['Variant'] : []),
      'Os', 'Size', 'RootFS', 'Metadata', 'Descriptor',
      ...(opts.manifests ? ['Manifests'] : []),
      ...(opts.identity && !apiBelow(v, '1.53') ? ['Identity'] : []),
    ];
  }
  return [
    'Id', 'RepoTags', 'RepoDigests', 'Parent', 'Comment',
    ...(opts.created || old ? ['Created'] : []),
    'DockerVersion', 'Author', 'Architecture',
    ...(opts.variant ? ['Variant'] : []),
    'Os', 'Size',
    ...(old ? ['VirtualSize'] : []),
    'GraphDriver', 'RootFS', 'Metadata',
    ...(apiBelow(v, '1.48') ? [] : ['Descriptor']),
    ...(opts.manifests && !apiBelow(v, '1.48') ? ['Manifests'] : []),
    'Config',
  ];
}

const RFC3339NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$/;

/** Checks one inspect document against an expectation, key order included. */
export function assertInspect(doc: Record<string, unknown>, exp: Expected, opts: { manifests?: boolean } = {}): void {
  const img = exp.image;
  const where = `inspect ${exp.id} (API ${exp.apiVersion})`;
  assert.deepEqual(
    Object.keys(doc),
    expectedKeys({
      apiVersion: exp.apiVersion,
      created: img.created !== undefined,
      variant: Boolean(img.platform.variant),
      manifests: opts.manifests,
      comment: img.comment !== '',
      author: Boolean(img.configJson.author),
    }),
    `${where}: top-level keys in order`,
  );
  const docker29 = !apiBelow(exp.apiVersion, '1.52');
  assert.equal(doc.Id, exp.id, `${where}: Id`);
  assert.deepEqual(doc.RepoTags, exp.repoTags, `${where}: RepoTags`);
  assert.deepEqual(doc.RepoDigests, exp.repoDigests, `${where}: RepoDigests`);
  assert.equal(doc.Parent, docker29 ? undefined : '');
  assert.equal(doc.Comment, docker29 && img.comment === '' ? undefined : img.comment);
  const old = apiBelow(exp.apiVersion, '1.44');
  assert.equal(doc.Created, img.created ?? (old ? '0001-01-01T00:00:00Z' : undefined), `${where}: Created`);
  if (img.created !== undefined) assert.match(String(doc.Created), RFC3339NANO);
  assert.equal(doc.DockerVersion, docker29 ? undefined : '');
  assert.equal(doc.Author, img.configJson.author || (docker29 ? undefined : ''));
  assert.equal(doc.Architecture, img.platform.architecture);
  assert.equal(doc.Variant, img.platform.variant);
  assert.equal(doc.Os, img.platform.os);
  assert.equal(doc.Size, exp.size, `${where}: Size`);
  if (old) assert.equal(doc.VirtualSize, exp.size);
  if (!docker29) {
    const gd = doc.GraphDriver as Record<string, unknown>;
    assert.deepEqual(Object.keys(gd), ['Data', 'Name']);
    assert.equal(gd.Data, null);
    assert.equal(typeof gd.Name, 'string');
  }
  assert.deepEqual(doc.RootFS, { Type: 'layers', Layers: img.diffIds }, `${where}: RootFS`);
  const meta = doc.Metadata as Record<string, unknown>;
  assert.match(String(meta.LastTagTime), RFC3339NANO);
  const tagged = Date.parse(String(meta.LastTagTime));
  assert.ok(Math.abs(Date.now() - tagged) < 3_600_000, `${where}: LastTagTime ${meta.LastTagTime} is recent`);
  if (!apiBelow(exp.apiVersion, '1.48')) {
    const d = doc.Descriptor as Record<string, unknown>;
    const { mediaType, digest, size } = exp.descriptor;
    assert.deepEqual({ mediaType: d.mediaType, digest: d.digest, size: d.size }, { mediaType, digest, size });
  }
  const config = doc.Config as Record<string, unknown>;
  if (!docker29) assert.deepEqual(Object.keys(config), Object.keys(config).sort(), `${where}: Config keys sorted`);
  assert.deepEqual(config, expectedConfig(img, exp.apiVersion), `${where}: Config`);
}
