// A registry that serves a decompression bomb: `docker pull` holds pulled layers to the daemon's
// --max-unpacked-layer-size as `docker load` does. The pull fails in its stream, the download stops
// near the limit rather than at the end of the blob, and nothing of it stays in the store.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { MediaType } from '../../src/oci/media-types.js';
import { rawEntry, TAR_END } from '../../src/archive/testing/hostile-archives.js';
import type { Descriptor } from '../../src/oci/types.js';
import { configJson, ociManifest } from '../../src/archive/testing/image-builder.js';
import { Daemon } from '../support/daemon.js';
import { blobPath, FaultProxy } from '../support/fault-proxy.js';
import { tempDir } from '../support/paths.js';
import { Registry } from '../support/registry.js';

const MiB = 1024 * 1024;
const LIMIT = 64 * MiB;

/** A blob written to `dir`'s OCI blobs folder from its pieces, hashed on the way (never held whole). */
function writeBlob(dir: string, pieces: Buffer[], mediaType: string): Descriptor {
  const hash = createHash('sha256');
  for (const piece of pieces) hash.update(piece);
  const digest = 'sha256:' + hash.digest('hex');
  const file = path.join(dir, 'blobs', 'sha256', digest.slice(7));
  writeFileSync(file, '');
  for (const piece of pieces) appendFileSync(file, piece);
  return { mediaType, digest, size: pieces.reduce((n, p) => n + p.length, 0) };
}

/**
 * An OCI layout of one image (tag `v1`) whose only layer is a gzip'd tar of one file: 96 MiB of
 * zeros (one gzip member of about 100 KiB: the bomb), then 160 MiB of random bytes stored as they
 * are (160 members, one MiB each, all alike), so that the blob is large and a client that reads it
 * all is seen to. The diff ID is true: only the limit refuses the layer.
 */
function bombLayout(): { dir: string; layer: Descriptor } {
  const dir = tempDir('bomb-layout');
  mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const zeros = 96 * MiB;
  const randomMiB = randomBytes(MiB);
  const copies = 160;
  const head = Buffer.concat([rawEntry({ name: 'zeros', size: zeros + copies * MiB }), Buffer.alloc(zeros)]);
  const diffId = createHash('sha256');
  diffId.update(head);
  for (let i = 0; i < copies; i++) diffId.update(randomMiB);
  diffId.update(TAR_END);
  const member = gzipSync(randomMiB, { level: 0 });
  const pieces = [gzipSync(head, { level: 9 }), ...Array.from({ length: copies }, () => member), gzipSync(TAR_END)];
  const layer = writeBlob(dir, pieces, MediaType.ociLayerGzip);
  const config = writeBlob(dir, [Buffer.from(configJson(['sha256:' + diffId.digest('hex')]))], MediaType.ociConfig);
  const manifest = ociManifest(config, [layer]);
  writeBlob(dir, [manifest.data], MediaType.ociManifest);
  writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const annotated = { ...manifest.desc, annotations: { 'org.opencontainers.image.ref.name': 'v1' } };
  writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [annotated] }));
  return { dir, layer };
}

describe('docker pull of a decompression bomb', { timeout: 300_000 }, () => {
  let reg: Registry;
  let proxy: FaultProxy;
  let d: Daemon;
  let layer: Descriptor;

  before(async () => {
    reg = await Registry.start();
    const layout = bombLayout();
    layer = layout.layer;
    await reg.push(layout.dir, 'lab/bomb:v1');
    proxy = await FaultProxy.start({ upstream: reg });
    d = await Daemon.start({ extraArgs: ['--max-unpacked-layer-size', '64MiB'] });
  });
  after(async () => {
    await d?.stop();
    await proxy?.stop();
    await reg?.stop();
  });

  it('fails in the pull stream naming the layer and the limit, stops reading near it, and stores nothing', async (t) => {
    const ref = proxy.ref('lab/bomb:v1');
    const res = await d.docker(['pull', ref]);
    const said = res.stdout + res.stderr;
    assert.equal(res.code, 1, `docker pull must fail:\n${said}\n${d.logs()}`);
    assert.match(
      res.stderr,
      new RegExp(`failed to extract layer ${layer.digest} .*: layer expands to more than ${LIMIT} bytes uncompressed \\(the limit of --max-unpacked-layer-size\\)`),
    );

    // Reading stopped near the limit (the bomb's first 100 KiB, plus the fetch's read-ahead of about
    // 10 MiB and the sockets' buffers, which loopback lets grow to tens of MiB), not at the end of
    // the 160 MiB blob.
    const sent = proxy.requests.filter((r) => r.method === 'GET' && blobPath(layer.digest).test(r.path));
    assert.ok(sent.length >= 1, 'the layer was requested');
    const bytes = sent.reduce((sum, r) => sum + r.bytesSent, 0);
    t.diagnostic(`read ${bytes} of the layer's ${layer.size} bytes; docker pull said: ${res.stderr.trim()}`);
    assert.ok(bytes < layer.size / 3, `read ${bytes} of the layer's ${layer.size} bytes`);

    // Nothing stays: no image, no blob (the manifest and config the pull wrote go with its lease), no ingest.
    assert.equal((await d.docker(['images', '-q'])).stdout, '');
    assert.deepEqual(readdirSync(path.join(d.dataRoot, 'content', 'blobs', 'sha256')), []);
    assert.deepEqual(readdirSync(path.join(d.dataRoot, 'content', 'ingest')), []);
    // And the daemon still serves.
    assert.equal((await d.docker(['version', '--format', '{{.Server.Version}}'])).code, 0);
  });
});
