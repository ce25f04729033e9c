import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MediaType } from '../oci/media-types.js';
import { hostPreferenceMatcher, strictMatcher } from '../oci/platform.js';
import type { Descriptor } from '../oci/types.js';
import { documentMediaType, pickPlatformChild } from './manifest-choice.js';

const child = (n: number, platform?: Descriptor['platform']): Descriptor => ({
  mediaType: MediaType.ociManifest,
  digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
  size: 100 + n,
  ...(platform ? { platform } : {}),
});

test('pickPlatformChild: the host first, then index order; a platformless child only when nothing else fits', () => {
  const arm = child(1, { os: 'linux', architecture: 'arm64' });
  const amd = child(2, { os: 'linux', architecture: 'amd64' });
  const attestation = child(3, { os: 'unknown', architecture: 'unknown' });
  const bare = child(4);
  const host = hostPreferenceMatcher({ os: 'linux', architecture: 'amd64' });
  assert.equal(pickPlatformChild([arm, amd, attestation], host), amd);
  assert.equal(pickPlatformChild([bare, arm, attestation], host), arm, 'no host platform: the first with a platform, in index order');
  assert.equal(pickPlatformChild([bare], host), bare);
  assert.equal(pickPlatformChild([arm, amd], strictMatcher({ os: 'linux', architecture: 'arm64', variant: 'v8' })), arm);
  assert.equal(pickPlatformChild([arm, amd], strictMatcher({ os: 'linux', architecture: 's390x' })), undefined);
  assert.equal(pickPlatformChild([], host), undefined);
});

test('documentMediaType: the document\'s own type, else its shape, else nothing', () => {
  const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
  assert.equal(documentMediaType(json({ mediaType: MediaType.dockerManifestList, manifests: [] })), MediaType.dockerManifestList);
  assert.equal(documentMediaType(json({ manifests: [] })), MediaType.ociIndex);
  assert.equal(documentMediaType(json({ config: {}, layers: [] })), MediaType.ociManifest);
  assert.equal(documentMediaType(json({ mediaType: 'text/plain', config: {}, layers: [] })), undefined);
  assert.equal(documentMediaType(Buffer.from('not json')), undefined);
});
