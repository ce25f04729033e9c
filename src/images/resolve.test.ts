import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.js';
import { MediaType } from '../oci/media-types.js';
import { resolveImage } from './resolve.js';

const A = 'sha256:abcd' + '1'.repeat(60);
const B = 'sha256:abcd' + '2'.repeat(60);
const C = 'sha256:9999' + '3'.repeat(60);
const now = '2026-01-01T00:00:00Z';

function store(): SqliteMetadataStore {
  const md = new SqliteMetadataStore(':memory:');
  const put = (name: string, digest: string): void =>
    md.putImage({ name, target: { mediaType: MediaType.ociManifest, digest, size: 1 }, createdAt: now, updatedAt: now });
  put('docker.io/library/alpine:latest', A);
  put('docker.io/library/alpine:3', A);
  put('docker.io/user/app:1', B);
  put('127.0.0.1:5000/lab/busybox:1.35', C);
  return md;
}

const nameOf = (md: SqliteMetadataStore, ref: string): string => resolveImage(md, ref).name;

test('names resolve after normalization, with latest as the default tag', () => {
  const md = store();
  assert.equal(nameOf(md, 'alpine'), 'docker.io/library/alpine:latest');
  assert.equal(nameOf(md, 'docker.io/library/alpine:3'), 'docker.io/library/alpine:3');
  assert.equal(nameOf(md, 'index.docker.io/user/app:1'), 'docker.io/user/app:1');
  assert.equal(nameOf(md, '127.0.0.1:5000/lab/busybox:1.35'), '127.0.0.1:5000/lab/busybox:1.35');
});

test('a full digest matches a target, with or without sha256:, and name@digest needs the repository', () => {
  const md = store();
  assert.equal(resolveImage(md, A).target.digest, A);
  assert.equal(resolveImage(md, A.slice(7)).target.digest, A);
  assert.equal(resolveImage(md, `alpine@${A}`).target.digest, A);
  assert.throws(() => resolveImage(md, `user/app@${A}`), { message: `No such image: user/app@${A}` });
  assert.throws(() => resolveImage(md, 'sha256:' + 'f'.repeat(64)), { message: 'No such image: sha256:' + 'f'.repeat(64) });
});

test('short IDs are prefixes of target digests; several targets are ambiguous', () => {
  const md = store();
  assert.equal(resolveImage(md, '9999').target.digest, C);
  assert.equal(resolveImage(md, 'sha256:9999').target.digest, C);
  assert.equal(resolveImage(md, 'abcd1').target.digest, A);
  assert.throws(() => resolveImage(md, 'abc'), { message: 'No such image: abc:latest' });
  assert.throws(() => resolveImage(md, 'abcd'), { message: 'ambiguous reference' });
});

test('errors say what Docker says', () => {
  const md = store();
  assert.throws(() => resolveImage(md, 'foo'), { message: 'No such image: foo:latest' });
  assert.throws(() => resolveImage(md, 'localhost:5000/x'), { message: 'No such image: localhost:5000/x:latest' });
  assert.throws(() => resolveImage(md, 'Foo'), {
    message: 'invalid reference format: repository name (library/Foo) must be lowercase',
  });
  assert.throws(() => resolveImage(md, 'a b'), { message: 'invalid reference format' });
});
