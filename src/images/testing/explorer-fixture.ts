/**
 * Test images for the explorer, one OCI layout archive (`docker load` takes it whole):
 * - `explorer/base:1`: a base layer, then a layer that deletes a file and a directory of it
 *   (whiteouts), overwrites a file and adds one;
 * - `explorer/app:1`: the same base layer (the same blob), then a layer of its own;
 * - `explorer/multi:1`: an index of linux/amd64 and linux/arm64/v8, each with BuildKit-style
 *   attestations: amd64 a CycloneDX SBOM, arm64 an SPDX SBOM, both SLSA v0.2 provenance;
 * - a dangling image, which `docker image prune` would remove.
 */
import { gzipSync } from 'node:zlib';
import { MediaType } from '../../oci/media-types.js';
import type { Descriptor, Platform } from '../../oci/types.js';
import { buildTar, sha256, type TarEntrySpec } from '../../archive/testing/archive-builder.js';
import { blob, blobEntry, indexJson, OCI_LAYOUT, ociIndex, ociManifest, type Blob } from '../../archive/testing/image-builder.js';
import { named } from '../../archive/testing/sample-images.js';

export const BASE = 'explorer/base:1';
export const APP = 'explorer/app:1';
export const MULTI = 'explorer/multi:1';

/** Sizes the tests check the explorer against. */
export const SIZES = { busybox: 200_000, cache: 120_000, data1: 50_000, data2: 30_000, conf1: 3, conf2: 12 } as const;

/** What the arm64 SPDX SBOM lists. */
export const ARM64_PACKAGES = ['busybox', 'musl', 'libcrypto3'];
export const AMD64_PACKAGES = ['busybox', 'musl', 'zlib'];
export const BUILDER = 'https://github.com/docker/buildx@v0.17.1';
export const SOURCE = 'https://github.com/lading-tests/example.git#main';

const dir = (name: string): TarEntrySpec => ({ name, type: 'directory' });
const file = (name: string, size: number, fill = 7): TarEntrySpec => ({ name, data: Buffer.alloc(size, fill) });

export interface ExplorerLayer {
  blob: Blob;
  diffId: string;
}

async function gzLayer(entries: TarEntrySpec[]): Promise<ExplorerLayer> {
  const tar = await buildTar(entries);
  return { blob: blob(gzipSync(tar), MediaType.ociLayerGzip), diffId: sha256(tar) };
}

export interface ExplorerImage {
  layers: ExplorerLayer[];
  config: Blob;
  manifest: Blob;
  entry: Descriptor;
}

async function image(
  platform: Platform,
  layers: ExplorerLayer[],
  history: Array<Record<string, unknown>>,
  config: Record<string, unknown>,
): Promise<ExplorerImage> {
  const cfg = blob(
    JSON.stringify({
      created: '2026-03-01T10:00:00Z',
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config,
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history,
    }),
    MediaType.ociConfig,
  );
  const manifest = ociManifest(cfg.desc, layers.map((l) => l.blob.desc));
  return { layers, config: cfg, manifest, entry: { ...manifest.desc, platform } };
}

function statement(subject: Descriptor, predicateType: string, predicate: object): Blob {
  return blob(
    JSON.stringify({ _type: 'https://in-toto.io/Statement/v0.1', predicateType, subject: [{ name: 'pkg:docker/explorer/multi@1', digest: { sha256: subject.digest.slice(7) } }], predicate }),
    'application/vnd.in-toto+json',
  );
}

function provenance(subject: Descriptor): Blob {
  return statement(subject, 'https://slsa.dev/provenance/v0.2', {
    builder: { id: BUILDER },
    buildType: 'https://mobyproject.org/buildkit@v1',
    invocation: { configSource: { uri: SOURCE, digest: { sha1: '4f1c6ad1e3a0b2c0d9e8f7a6b5c4d3e2f1a0b9c8' }, entryPoint: 'Dockerfile' } },
    materials: [{ uri: 'pkg:docker/alpine@3.20?platform=linux%2Farm64', digest: { sha256: 'a'.repeat(64) } }],
  });
}

function attestation(subject: Descriptor, statements: Array<{ blob: Blob; predicateType: string }>): { manifest: Blob; config: Blob; entry: Descriptor } {
  const config = blob('{"architecture":"unknown","os":"unknown","rootfs":{"type":"layers","diff_ids":[]}}', MediaType.ociConfig);
  const layers = statements.map((s) => ({ ...s.blob.desc, annotations: { 'in-toto.io/predicate-type': s.predicateType } }));
  const manifest = ociManifest(config.desc, layers);
  const entry: Descriptor = {
    ...manifest.desc,
    platform: { architecture: 'unknown', os: 'unknown' },
    annotations: { 'vnd.docker.reference.digest': subject.digest, 'vnd.docker.reference.type': 'attestation-manifest' },
  };
  return { manifest, config, entry };
}

export interface ExplorerFixture {
  /** The OCI layout, as a tar for `docker load`. */
  archive: Buffer;
  base: ExplorerImage;
  app: ExplorerImage;
  amd64: ExplorerImage;
  arm64: ExplorerImage;
  dangling: ExplorerImage;
  multiIndex: Blob;
}

export async function explorerFixture(): Promise<ExplorerFixture> {
  const amd = { architecture: 'amd64', os: 'linux' };
  const baseLayer = await gzLayer([
    dir('bin/'),
    { ...file('bin/busybox', SIZES.busybox), mode: 0o755 },
    { name: 'bin/sh', type: 'symlink', linkname: 'busybox' },
    dir('etc/'),
    { name: 'etc/app.conf', data: 'v1\n' },
    { name: 'etc/os-release', data: 'NAME="Lading test base"\n' },
    dir('tmp/'),
    file('tmp/cache.bin', SIZES.cache),
    dir('usr/'),
    dir('usr/share/'),
    dir('usr/share/big/'),
    file('usr/share/big/data1.bin', SIZES.data1),
    file('usr/share/big/data2.bin', SIZES.data2),
  ]);
  const cleanup = await gzLayer([
    { name: 'tmp/.wh.cache.bin', data: '' },
    { name: 'usr/share/.wh.big', data: '' },
    { name: 'etc/app.conf', data: 'v2 changed\n\n' },
    dir('app/'),
    { name: 'app/readme.txt', data: 'added by the second layer\n' },
  ]);
  const base = await image(
    amd,
    [baseLayer, cleanup],
    [
      { created: '2026-03-01T09:00:00Z', created_by: 'ADD rootfs.tar /', comment: 'base' },
      { created: '2026-03-01T09:30:00Z', created_by: 'ENV MODE=base', empty_layer: true },
      { created: '2026-03-01T10:00:00Z', created_by: 'RUN rm -rf /tmp/cache.bin /usr/share/big && echo v2 > /etc/app.conf', comment: 'cleanup' },
    ],
    { Env: ['PATH=/bin', 'MODE=base'], Cmd: ['/bin/sh'], WorkingDir: '/', Labels: { 'org.opencontainers.image.title': 'explorer base' } },
  );
  const appLayer = await gzLayer([dir('app/'), { ...file('app/server', 4000, 9), mode: 0o755 }, { name: 'etc/app.conf', data: 'app mode\n' }]);
  const app = await image(
    amd,
    [baseLayer, appLayer],
    [
      { created: '2026-03-01T09:00:00Z', created_by: 'ADD rootfs.tar /', comment: 'base' },
      { created: '2026-03-02T10:00:00Z', created_by: 'COPY server /app/', comment: 'app' },
    ],
    {
      Env: ['PATH=/bin', 'MODE=app'],
      Entrypoint: ['/app/server'],
      ExposedPorts: { '8080/tcp': {} },
      User: 'app',
      WorkingDir: '/app',
      Labels: { 'org.opencontainers.image.title': 'explorer app', 'com.example.team': 'web' },
    },
  );

  const arm = { architecture: 'arm64', os: 'linux', variant: 'v8' };
  const amd64 = await image(amd, [await gzLayer([dir('lib/'), file('lib/ld-musl-x86_64.so.1', 6000)])], [{ created_by: 'ADD musl /lib/' }], { Cmd: ['/bin/sh'] });
  const arm64 = await image(arm, [await gzLayer([dir('lib/'), file('lib/ld-musl-aarch64.so.1', 5000)])], [{ created_by: 'ADD musl /lib/' }], { Cmd: ['/bin/sh'] });
  const spdx = statement(arm64.manifest.desc, 'https://spdx.dev/Document', {
    spdxVersion: 'SPDX-2.3',
    name: 'sbom-arm64',
    packages: ARM64_PACKAGES.map((name, i) => ({
      name,
      SPDXID: `SPDXRef-Package-${name}`,
      versionInfo: `1.${i}.0-r${i}`,
      licenseConcluded: i === 0 ? 'GPL-2.0-only' : 'MIT',
      externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: `pkg:apk/alpine/${name}@1.${i}.0-r${i}?arch=aarch64` }],
    })),
  });
  const cdx = statement(amd64.manifest.desc, 'https://cyclonedx.org/bom', {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    components: AMD64_PACKAGES.map((name, i) => ({ type: 'library', name, version: `2.${i}`, purl: `pkg:apk/alpine/${name}@2.${i}?arch=x86_64`, licenses: [{ license: { id: 'MIT' } }] })),
  });
  const attAmd = attestation(amd64.manifest.desc, [
    { blob: cdx, predicateType: 'https://cyclonedx.org/bom' },
    { blob: provenance(amd64.manifest.desc), predicateType: 'https://slsa.dev/provenance/v0.2' },
  ]);
  const armProvenance = provenance(arm64.manifest.desc);
  const attArm = attestation(arm64.manifest.desc, [
    { blob: spdx, predicateType: 'https://spdx.dev/Document' },
    { blob: armProvenance, predicateType: 'https://slsa.dev/provenance/v0.2' },
  ]);
  const multiIndex = ociIndex([amd64.entry, arm64.entry, attAmd.entry, attArm.entry]);
  const dangling = await image(amd, [await gzLayer([file('orphan.bin', 7000, 3)])], [{ created_by: 'ADD orphan.bin /' }], {});

  const blobs: Blob[] = [];
  const seen = new Set<string>();
  const add = (...bs: Blob[]): void => {
    for (const b of bs) if (!seen.has(b.desc.digest)) (seen.add(b.desc.digest), blobs.push(b));
  };
  for (const img of [base, app, amd64, arm64, dangling]) add(...img.layers.map((l) => l.blob), img.config, img.manifest);
  add(cdx, spdx, armProvenance, ...[attAmd, attArm].flatMap((a) => [a.manifest, a.config]), multiIndex);
  // The amd64 provenance blob: built again from the same subject, the same bytes as in attAmd.
  add(provenance(amd64.manifest.desc));
  const archive = await buildTar([
    OCI_LAYOUT,
    ...blobs.map(blobEntry),
    indexJson([
      named(base.manifest.desc, `docker.io/${BASE}`),
      named(app.manifest.desc, `docker.io/${APP}`),
      named(multiIndex.desc, `docker.io/${MULTI}`),
      dangling.manifest.desc,
    ]),
  ]);
  return { archive, base, app, amd64, arm64, dangling, multiIndex };
}
