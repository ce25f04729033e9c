import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.js';
import { MediaType } from '../oci/media-types.js';
import { resolveImage } from './resolve.js';

const A = 'sha256:abcd' + '1'.repeat(60);
const B = 'sha256:abcd' + '2'.repeat(60);
const C = 'sha256:9999' + '3'.repeat(60);
const now = '2026-01-01T00:00:00Z';

async function store(): Promise<SqliteMetadataStore> {
  const md = new SqliteMetadataStore(':memory:');
  const put = (name: string, digest: string): Promise<void> =>
    md.putImage({ name, target: { mediaType: MediaType.ociManifest, digest, size: 1 }, createdAt: now, updatedAt: now });
  await put('docker.io/library/alpine:latest', A);
  await put('docker.io/library/alpine:3', A);
  await put('docker.io/user/app:1', B);
  await put('127.0.0.1:5000/lab/busybox:1.35', C);
  return md;
}

const nameOf = async (md: SqliteMetadataStore, ref: string): Promise<string> => (await resolveImage(md, ref)).name;

test('names resolve after normalization, with latest as the default tag', async () => {
  const md = await store();
  assert.equal(await nameOf(md, 'alpine'), 'docker.io/library/alpine:latest');
  assert.equal(await nameOf(md, 'docker.io/library/alpine:3'), 'docker.io/library/alpine:3');
  assert.equal(await nameOf(md, 'index.docker.io/user/app:1'), 'docker.io/user/app:1');
  assert.equal(await nameOf(md, '127.0.0.1:5000/lab/busybox:1.35'), '127.0.0.1:5000/lab/busybox:1.35');
});

test('a full digest matches a target, with or without sha256:, and name@digest needs the repository', async () => {
  const md = await store();
  assert.equal((await resolveImage(md, A)).target.digest, A);
  assert.equal((await resolveImage(md, A.slice(7))).target.digest, A);
  assert.equal((await resolveImage(md, `alpine@${A}`)).target.digest, A);
  await assert.rejects(resolveImage(md, `user/app@${A}`), { message: `No such image: user/app@${A}` });
  await assert.rejects(resolveImage(md, 'sha256:' + 'f'.repeat(64)), { message: 'No such image: sha256:' + 'f'.repeat(64) });
});

test('short IDs are prefixes of target digests; several targets are ambiguous', async () => {
  const md = await store();
  assert.equal((await resolveImage(md, '9999')).target.digest, C);
  assert.equal((await resolveImage(md, 'sha256:9999')).target.digest, C);
  assert.equal((await resolveImage(md, 'abcd1')).target.digest, A);
  await assert.rejects(resolveImage(md, 'abc'), { message: 'No such image: abc:latest' });
  await assert.rejects(resolveImage(md, 'abcd'), { message: 'ambiguous reference' });
});

test('errors say what Docker says', async () => {
  const md = await store();
  await assert.rejects(resolveImage(md, 'foo'), { message: 'No such image: foo:latest' });
  await assert.rejects(resolveImage(md, 'localhost:5000/x'), { message: 'No such image: localhost:5000/x:latest' });
  await assert.rejects(resolveImage(md, 'Foo'), {
    message: 'invalid reference format: repository name (library/Foo) must be lowercase',
  });
  await assert.rejects(resolveImage(md, 'a b'), { message: 'invalid reference format' });
});
