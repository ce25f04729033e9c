import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MediaType } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import { blob, blobEntry, ociIndex, ociManifest } from '../archive/testing/image-builder.js';
import { buildImage, imageBlobs, named } from '../archive/testing/sample-images.js';
import { compactJson, renderAttestations } from '../api/attestation-view.js';
import { loadLayout, newService } from './testing/service-fixture.js';

const SPDX = 'https://spdx.dev/Document';
const SLSA = 'https://slsa.dev/provenance/v0.2';
const AMD64 = { architecture: 'amd64', os: 'linux' };
const ARM64 = { architecture: 'arm64', os: 'linux', variant: 'v8' };

/** BuildKit's layout: an index of amd64 and arm64/v8, and an attestation manifest for amd64 only. */
async function attestedService() {
  const fx = await newService();
  const amd64 = await buildImage(AMD64, 'att-amd64');
  const arm64 = await buildImage(ARM64, 'att-arm64');
  const statement = (predicateType: string, predicate: object): string =>
    JSON.stringify(
      { _type: 'https://in-toto.io/Statement/v0.1', predicateType, subject: [{ name: 'pkg:docker/att', digest: { sha256: amd64.manifest.desc.digest.slice(7) } }], predicate },
      null,
      2,
    );
  const sbom = blob(statement(SPDX, { spdxVersion: 'SPDX-2.3', name: 'sbom <x>' }), MediaType.inTotoAttestation);
  const provenance = blob(statement(SLSA, { builder: { id: 'lading-tests' } }), MediaType.inTotoAttestation);
  const unannotated = blob('{"note":"no predicate type"}', MediaType.inTotoAttestation);
  const layers: Descriptor[] = [
    { ...sbom.desc, annotations: { 'in-toto.io/predicate-type': SPDX } },
    { ...provenance.desc, annotations: { 'in-toto.io/predicate-type': SLSA } },
    unannotated.desc,
  ];
  const config = blob('{"architecture":"unknown","os":"unknown","rootfs":{"type":"layers","diff_ids":[]}}', MediaType.ociConfig);
  const manifest = ociManifest(config.desc, layers);
  const entry: Descriptor = {
    ...manifest.desc,
    platform: { architecture: 'unknown', os: 'unknown' },
    annotations: { 'vnd.docker.reference.digest': amd64.manifest.desc.digest, 'vnd.docker.reference.type': 'attestation-manifest' },
  };
  const index = ociIndex([amd64.entry, arm64.entry, entry]);
  const blobs = [index, ...imageBlobs(amd64), ...imageBlobs(arm64), manifest, config, sbom, provenance, unannotated];
  await loadLayout(fx.images, blobs.map(blobEntry), [named(index.desc, 'docker.io/library/attested:1')]);
  // The same platform images as a Docker manifest list, and one platform's manifest alone.
  const list = blob(
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.dockerManifestList, manifests: [amd64.entry, entry] }),
    MediaType.dockerManifestList,
  );
  await loadLayout(fx.images, [list, ...imageBlobs(amd64), manifest, config, sbom, provenance, unannotated].map(blobEntry), [
    named(list.desc, 'docker.io/library/listed:1'),
  ]);
  await loadLayout(fx.images, imageBlobs(amd64).map(blobEntry), [named(amd64.manifest.desc, 'docker.io/library/single:1')]);
  return { ...fx, layers, sbom, provenance };
}

test('attestations: the platform manifest\'s statements, annotated layers only, filtered by type, statements with statement=1', async () => {
  const fx = await attestedService();
  try {
    const all = await fx.images.attestations('attested:1', { platform: AMD64, predicateTypes: [], statement: false });
    assert.deepEqual(all.map((s) => [s.descriptor, s.predicateType, s.statement]), [
      [fx.layers[0], SPDX, undefined],
      [fx.layers[1], SLSA, undefined],
    ]);
    const slsa = await fx.images.attestations('attested:1', { platform: AMD64, predicateTypes: [SLSA], statement: true });
    assert.equal(slsa.length, 1);
    assert.deepEqual(slsa[0]?.statement, fx.provenance.data);
    assert.deepEqual(await fx.images.attestations('attested:1', { platform: AMD64, predicateTypes: ['https://example.com/none'], statement: true }), []);
  } finally {
    fx.cleanup();
  }
});

test('attestations: [] for a platform without an attestation manifest, a manifest list, a single manifest; 404 for an absent platform', async () => {
  const fx = await attestedService();
  try {
    const opts = { predicateTypes: [], statement: false };
    assert.deepEqual(await fx.images.attestations('attested:1', { ...opts, platform: ARM64 }), []);
    assert.deepEqual(await fx.images.attestations('listed:1', { ...opts, platform: AMD64 }), []);
    assert.deepEqual(await fx.images.attestations('single:1', { ...opts, platform: AMD64 }), []);
    await assert.rejects(fx.images.attestations('attested:1', { ...opts, platform: { architecture: 's390x', os: 'linux' } }), {
      name: 'NotFoundError',
      message:
        'resolving image manifest for platform &{Architecture:s390x OS:linux OSVersion: OSFeatures:[] Variant:}: ' +
        'no manifest for platform linux/s390x: not found',
    });
    await assert.rejects(fx.images.attestations('nothing:1', { ...opts, platform: AMD64 }), { name: 'NotFoundError' });
  } finally {
    fx.cleanup();
  }
});

test('attestations: an absent statement blob is a 404 only when statements are asked for', async () => {
  const fx = await attestedService();
  try {
    const digest = fx.sbom.desc.digest;
    await fx.content.delete(digest);
    assert.equal((await fx.images.attestations('attested:1', { platform: AMD64, predicateTypes: [], statement: false })).length, 2);
    await assert.rejects(fx.images.attestations('attested:1', { platform: AMD64, predicateTypes: [], statement: true }), {
      name: 'NotFoundError',
      message: `attestation statement ${digest} is not available locally: content digest ${digest}: not found`,
    });
  } finally {
    fx.cleanup();
  }
});

test('the attestation body: [] when empty, statements compacted as Go writes a RawMessage, no HTML escaping', () => {
  assert.equal(renderAttestations([]).toString(), '[]\n');
  assert.equal(compactJson(Buffer.from('{ "a" : [1, 2],\n "b": " x <y> \\" z " }')), '{"a":[1,2],"b":" x <y> \\" z "}');
  const desc = { mediaType: MediaType.inTotoAttestation, digest: 'sha256:' + 'a'.repeat(64), size: 3, annotations: { 'in-toto.io/predicate-type': SPDX } };
  assert.equal(
    renderAttestations([{ descriptor: desc, predicateType: SPDX, statement: Buffer.from('{ "x": "<&>" }') }]).toString(),
    `[{"Descriptor":{"mediaType":"${MediaType.inTotoAttestation}","digest":"${desc.digest}","size":3,` +
      `"annotations":{"in-toto.io/predicate-type":"${SPDX}"}},"PredicateType":"${SPDX}","Statement":{"x":"<&>"}}]\n`,
  );
});
