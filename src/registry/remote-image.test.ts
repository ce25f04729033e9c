// fetchRemoteImage against a registry in this process: what it asks for, what it refuses.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import { MediaType } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import { parseNormalizedNamed } from '../reference/reference.js';
import { DEFAULT_RETRY_POLICY } from './retry-policy.js';
import { RegistryService } from './registry-service.js';
import { fetchRemoteImage } from './remote-image.js';

const digestOf = (b: Buffer): string => 'sha256:' + createHash('sha256').update(b).digest('hex');
const blobs = new Map<string, Buffer>();
const put = (mediaType: string, value: unknown): Descriptor => {
  const data = Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value));
  const digest = digestOf(data);
  blobs.set(digest, data);
  return { mediaType, digest, size: data.length };
};

function platformImage(architecture: string): { manifest: Descriptor; config: Descriptor; layer: Descriptor } {
  const layer = put(MediaType.ociLayerGzip, Buffer.from(`layer of ${architecture}`));
  const config = put(MediaType.ociConfig, { architecture, os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf(Buffer.from(architecture))] }, config: {} });
  const manifest = put(MediaType.ociManifest, { schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [layer] });
  return { manifest, config, layer };
}

const amd = platformImage('amd64');
const arm = platformImage('arm64');
const index = put(MediaType.ociIndex, {
  schemaVersion: 2,
  mediaType: MediaType.ociIndex,
  manifests: [
    { ...amd.manifest, platform: { os: 'linux', architecture: 'amd64' } },
    { ...arm.manifest, platform: { os: 'linux', architecture: 'arm64' } },
  ],
});
const tags: Record<string, Descriptor> = { v1: index, single: amd.manifest };

const seen: Array<{ method: string; path: string }> = [];
let corrupt: string | undefined;
let server: http.Server;
let host = '';

before(async () => {
  server = http.createServer((req, res) => {
    const path = req.url ?? '';
    seen.push({ method: req.method ?? '', path });
    if (path === '/v2/') return void res.end('{}');
    const m = /^\/v2\/lab\/x\/(manifests|blobs)\/(.+)$/.exec(path);
    const desc = m && (m[1] === 'manifests' ? (tags[m[2]!] ?? (blobs.has(m[2]!) ? { digest: m[2]!, mediaType: '' } : undefined)) : { digest: m[2]!, mediaType: 'application/octet-stream' });
    let data = desc && blobs.get(desc.digest);
    if (!desc || !data) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      return void res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
    }
    const type = m[1] === 'manifests' ? (JSON.parse(data.toString('utf8')) as { mediaType: string }).mediaType : 'application/octet-stream';
    if (desc.digest === corrupt) {
      data = Buffer.from(data);
      data[data.length - 1] = (data[data.length - 1] ?? 0) ^ 1; // same size, another digest
    }
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': data.length, 'Docker-Content-Digest': desc.digest });
    res.end(req.method === 'HEAD' ? undefined : data);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});
beforeEach(() => {
  seen.length = 0;
  corrupt = undefined;
});

const registry = (): RegistryService => new RegistryService({ retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: 1, sleep: async () => undefined } });
const ref = (tag: string) => parseNormalizedNamed(`${host}/lab/x:${tag}`);

test('an index: the host\'s manifest and its config, no layer, nothing of the other platform', async () => {
  const image = await fetchRemoteImage(registry(), ref('v1'), { platform: { os: 'linux', architecture: 'amd64' } });
  assert.deepEqual(image.target, index);
  assert.equal(image.manifest.digest, amd.manifest.digest);
  assert.deepEqual(image.layers, [amd.layer]);
  assert.deepEqual([...image.documents.keys()], [index.digest, amd.manifest.digest, amd.config.digest]);
  const paths = seen.map((s) => s.path);
  for (const d of [amd.layer, arm.layer, arm.manifest, arm.config]) assert.ok(!paths.some((p) => p.includes(d.digest)), `${d.digest} was requested`);
  assert.equal(seen.filter((s) => s.path.includes('/blobs/')).length, 1, JSON.stringify(seen));
});

test('platform: only that one; a platform the index lacks is containerd\'s not found', async () => {
  const image = await fetchRemoteImage(registry(), ref('v1'), { platform: { os: 'linux', architecture: 'arm64' } });
  assert.equal(image.manifest.digest, arm.manifest.digest);
  await assert.rejects(fetchRemoteImage(registry(), ref('v1'), { platform: { os: 'linux', architecture: 's390x' } }), {
    message: 'no match for platform in manifest: not found',
  });
});

test('a single manifest: itself and its config', async () => {
  const image = await fetchRemoteImage(registry(), ref('single'));
  assert.equal(image.target.digest, amd.manifest.digest);
  assert.deepEqual([...image.documents.keys()], [amd.manifest.digest, amd.config.digest]);
});

test('bytes that do not match their digest are refused, a config as a manifest', async () => {
  corrupt = amd.config.digest;
  await assert.rejects(fetchRemoteImage(registry(), ref('single')), /unexpected commit digest sha256:[0-9a-f]{64}, expected sha256:/);
  corrupt = amd.manifest.digest;
  await assert.rejects(fetchRemoteImage(registry(), ref('single')), /unexpected commit digest/);
});

test('an unknown tag: the resolve failure a pull reports', async () => {
  await assert.rejects(fetchRemoteImage(registry(), ref('nope')), {
    message: `failed to resolve reference "${host}/lab/x:nope": ${host}/lab/x:nope: not found`,
  });
});
