import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BlobSource } from '../metadata/metadata-store.js';
import { parseNormalizedNamed } from '../reference/reference.js';
import { mountCandidate } from './pusher.js';

test('the mount candidate: same registry (with its port), not the target, most leading path components in common', () => {
  const sources = new Map<string, BlobSource[]>([
    ['sha256:a', [
      { digest: 'sha256:a', registry: '127.0.0.1:5000', repository: 'other/x' },
      { digest: 'sha256:a', registry: '127.0.0.1:5000', repository: 'lab/a' },
      { digest: 'sha256:a', registry: '127.0.0.1:5000', repository: 'zzz' },
      { digest: 'sha256:a', registry: '127.0.0.1:6000', repository: 'lab/b/c' },
    ]],
    ['sha256:own', [{ digest: 'sha256:own', registry: '127.0.0.1:5000', repository: 'lab/b' }]],
    ['sha256:index', [{ digest: 'sha256:index', registry: '127.0.0.1:5000', repository: 'parent/repo' }]],
  ]);
  const of = (digest: string): BlobSource[] => sources.get(digest) ?? [];
  const target = parseNormalizedNamed('127.0.0.1:5000/lab/b:v1');
  assert.deepEqual(mountCandidate(target, ['sha256:a'], of), { mountFrom: 'lab/a' });
  // Only the target itself has it: no mount (the HEAD said it is not there).
  assert.deepEqual(mountCandidate(target, ['sha256:own'], of), {});
  // Nothing known of the blob: the documents that list it speak for it.
  assert.deepEqual(mountCandidate(target, ['sha256:none', 'sha256:index'], of), { mountFrom: 'parent/repo' });
  assert.deepEqual(mountCandidate(parseNormalizedNamed('127.0.0.1:7000/lab/b:v1'), ['sha256:a'], of), {});
});
