import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attestationManifestFor } from './attestation.js';
import type { Descriptor } from './types.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const desc = (digest: string, annotations?: Record<string, string>): Descriptor => ({
  mediaType: OCI_MANIFEST,
  digest,
  size: 1,
  ...(annotations ? { annotations } : {}),
});
const att = (digest: string, subject: string): Descriptor =>
  desc(digest, { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': subject });

describe('attestationManifestFor', () => {
  it('finds the attestation manifest naming the subject, the last one listed winning', () => {
    const children = [desc('sha256:a'), desc('sha256:b'), att('sha256:x', 'sha256:b'), att('sha256:y', 'sha256:a'), att('sha256:z', 'sha256:a')];
    assert.equal(attestationManifestFor(children, 'sha256:a')?.digest, 'sha256:z');
    assert.equal(attestationManifestFor(children, 'sha256:b')?.digest, 'sha256:x');
  });

  it('none without the reference type, or for another subject, or when not a manifest', () => {
    const untyped = desc('sha256:x', { 'vnd.docker.reference.digest': 'sha256:a' });
    const notManifest = { ...att('sha256:y', 'sha256:a'), mediaType: 'application/vnd.in-toto+json' };
    assert.equal(attestationManifestFor([desc('sha256:a'), untyped, notManifest, att('sha256:z', 'sha256:c')], 'sha256:a'), undefined);
  });
});
