// An image with most of what a Dockerfile can put into a config: three layers, entrypoint, healthcheck,
// volumes, ports, labels, and a history with empty layers (the last entry is one). Only for the oracle:
// what it carries is what dockerd 20.10 and Docker 28 report alike.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildTar } from '../../src/archive/testing/archive-builder.js';
import { tempDir } from '../support/paths.js';
import {
  BUSYBOX,
  hex,
  MT,
  sha256,
  type Descriptor,
  type ImageConfig,
  type ImageFixture,
  type PlatformImage,
} from '../support/images.js';

const REPO = 'lading-rich';
const TAG = 'v1';
// Nanoseconds without trailing zeros: Go prints all nine digits.
const CREATED = '2024-02-29T12:34:56.789012345Z';
const LAST_COMMENT = 'healthcheck: added by the oracle';

let built: Promise<ImageFixture> | undefined;

export function richImage(): Promise<ImageFixture> {
  built ??= build();
  return built;
}

async function build(): Promise<ImageFixture> {
  const blobs = new Map<string, Buffer>();
  const add = (mediaType: string, data: Buffer, extra: Partial<Descriptor> = {}): Descriptor => {
    const digest = sha256(data);
    blobs.set(digest, data);
    return { mediaType, digest, size: data.length, ...extra };
  };

  const tars = [
    await buildTar([
      { name: 'bin/', type: 'directory' },
      { name: 'bin/busybox', type: 'file', data: readFileSync(BUSYBOX), mode: 0o755 },
      { name: 'bin/sh', type: 'symlink', linkname: 'busybox' },
      { name: 'bin/true', type: 'symlink', linkname: 'busybox' },
    ]),
    await buildTar([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/rich.conf', type: 'file', data: 'mode=oracle\n' },
    ]),
    await buildTar([
      { name: 'srv/', type: 'directory' },
      { name: 'srv/app/', type: 'directory' },
      { name: 'srv/app/data.txt', type: 'file', data: 'rich data\n' },
    ]),
  ];
  const [bb, conf, data] = tars as [Buffer, Buffer, Buffer];
  const layers = [add(MT.layerGzip, gzipSync(bb)), add(MT.layer, conf), add(MT.layerGzip, gzipSync(data))];
  const diffIds = tars.map((t) => sha256(t));

  const at = { created: CREATED };
  const buildkit = 'buildkit.dockerfile.v0';
  // Keys deliberately unsorted: the daemon must sort Config.
  const config: Record<string, unknown> = {
    User: '1000:1000',
    Healthcheck: {
      Test: ['CMD-SHELL', 'true'],
      Interval: 30_000_000_000,
      Timeout: 5_000_000_000,
      StartPeriod: 1_000_000_000,
      Retries: 3,
    },
    ExposedPorts: { '80/tcp': {}, '53/udp': {}, '8443/tcp': {} },
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'APP_MODE=oracle', 'EMPTY='],
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: ['echo hello'],
    Volumes: { '/data': {}, '/cache': {} },
    WorkingDir: '/srv/app',
    Labels: {
      'org.opencontainers.image.title': 'lading rich',
      'com.example.html': '<b>&</b>',
      'com.example.empty': '',
      'com.example.unicode': 'Grüße, 世界',
    },
    StopSignal: 'SIGINT',
    OnBuild: ['RUN true'],
    Shell: ['/bin/sh', '-c'],
  };
  const configJson: ImageConfig = {
    ...at,
    author: 'Lading Oracle <oracle@lading.invalid>',
    architecture: 'amd64',
    os: 'linux',
    config,
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: [
      { ...at, created_by: 'ADD busybox /bin/ # buildkit', comment: 'busybox' },
      { ...at, created_by: 'ENV APP_MODE=oracle', comment: buildkit, empty_layer: true },
      { ...at, created_by: 'COPY rich.conf /etc/ # buildkit', comment: buildkit },
      { ...at, created_by: 'EXPOSE map[53/udp:{} 80/tcp:{} 8443/tcp:{}]', empty_layer: true },
      { ...at, created_by: 'COPY data.txt /srv/app/ # buildkit', comment: buildkit },
      { ...at, created_by: 'WORKDIR /srv/app', comment: buildkit, empty_layer: true },
      { ...at, created_by: 'HEALTHCHECK CMD-SHELL true', comment: LAST_COMMENT, empty_layer: true },
    ],
  };
  const configDesc = add(MT.config, Buffer.from(JSON.stringify(configJson)));
  const manifest = add(
    MT.manifest,
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.manifest, config: configDesc, layers })),
    { platform: { architecture: 'amd64', os: 'linux' } },
  );

  const ref = `docker.io/library/${REPO}:${TAG}`;
  const target = {
    ...manifest,
    annotations: { 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': TAG },
  };
  const layoutDir = path.join(tempDir('layout'), 'layout');
  mkdirSync(path.join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(path.join(layoutDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(path.join(layoutDir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MT.index, manifests: [target] }));
  for (const [digest, bytes] of blobs) writeFileSync(path.join(layoutDir, 'blobs', 'sha256', hex(digest)), bytes);

  const image: PlatformImage = {
    platform: { architecture: 'amd64', os: 'linux' },
    manifest,
    config: configDesc,
    configJson,
    layers,
    diffIds,
    created: CREATED,
    comment: LAST_COMMENT,
  };
  return { ref, familiar: `${REPO}:${TAG}`, repo: REPO, tag: TAG, layoutDir, target, id: manifest.digest, images: [image], missing: [] };
}
