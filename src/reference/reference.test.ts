import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../errors.js';
import {
  familiarName,
  familiarString,
  isFullIdentifier,
  isShortIdentifier,
  parseAnyReference,
  parseNamed,
  parseNormalizedNamed,
  referenceString,
  repositoryName,
  tagNameOnly,
  trimNamed,
  withDigest,
  withTag,
  type Reference,
} from './reference.js';

const HEX = 'e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582';
const DIGEST = `sha256:${HEX}`;
const SHA384 = `sha384:${'ab'.repeat(48)}`;
const SHA512 = `sha512:${'f'.repeat(128)}`;

/** Asserts that fn throws an InvalidArgumentError with exactly this message. */
function throwsExactly(fn: () => unknown, message: string, label: string): void {
  assert.throws(
    fn,
    (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError, `${label}: not an InvalidArgumentError: ${String(err)}`);
      assert.equal(err.message, message, label);
      assert.equal(err.kind, 'invalid-argument');
      return true;
    },
    label,
  );
}

// input -> the exact parsed Reference (no undefined-valued keys).
const normalized: Array<[string, Reference]> = [
  ['alpine', { domain: 'docker.io', path: 'library/alpine' }],
  ['alpine:3.19', { domain: 'docker.io', path: 'library/alpine', tag: '3.19' }],
  ['library/alpine', { domain: 'docker.io', path: 'library/alpine' }],
  ['user/app', { domain: 'docker.io', path: 'user/app' }],
  ['user/app:1', { domain: 'docker.io', path: 'user/app', tag: '1' }],
  ['docker.io/alpine', { domain: 'docker.io', path: 'library/alpine' }],
  ['docker.io/alpine:latest', { domain: 'docker.io', path: 'library/alpine', tag: 'latest' }],
  ['docker.io/library/alpine', { domain: 'docker.io', path: 'library/alpine' }],
  ['docker.io/user/app', { domain: 'docker.io', path: 'user/app' }],
  ['docker.io/library/foo/bar', { domain: 'docker.io', path: 'library/foo/bar' }],
  // The legacy Hub domain is rewritten, and then gets library/ like docker.io does.
  ['index.docker.io/alpine', { domain: 'docker.io', path: 'library/alpine' }],
  ['index.docker.io/library/alpine', { domain: 'docker.io', path: 'library/alpine' }],
  ['index.docker.io/user/app', { domain: 'docker.io', path: 'user/app' }],
  // Only the exact lowercase spellings are Docker Hub.
  ['Docker.io/foo', { domain: 'Docker.io', path: 'foo' }],
  ['INDEX.DOCKER.IO/foo', { domain: 'INDEX.DOCKER.IO', path: 'foo' }],
  ['registry-1.docker.io/foo', { domain: 'registry-1.docker.io', path: 'foo' }],
  // localhost is a domain only before a '/'; alone it is an image name, and ':5000' its tag.
  ['localhost/foo', { domain: 'localhost', path: 'foo' }],
  ['localhost/library/debian', { domain: 'localhost', path: 'library/debian' }],
  ['localhost', { domain: 'docker.io', path: 'library/localhost' }],
  ['localhost:5000', { domain: 'docker.io', path: 'library/localhost', tag: '5000' }],
  ['localhost:5000/x', { domain: 'localhost:5000', path: 'x' }],
  ['example.com:5000', { domain: 'docker.io', path: 'library/example.com', tag: '5000' }],
  ['192.168.0.1', { domain: 'docker.io', path: 'library/192.168.0.1' }],
  ['192.168.0.1:80', { domain: 'docker.io', path: 'library/192.168.0.1', tag: '80' }],
  // A first segment with '.' or ':' is a domain; without, it is a Hub namespace.
  ['test_com/foo', { domain: 'docker.io', path: 'test_com/foo' }],
  ['test.com/foo', { domain: 'test.com', path: 'foo' }],
  ['test:5000/repo', { domain: 'test:5000', path: 'repo' }],
  ['test-com:8080/foo', { domain: 'test-com:8080', path: 'foo' }],
  ['ghcr.io/owner/app:v1', { domain: 'ghcr.io', path: 'owner/app', tag: 'v1' }],
  ['127.0.0.1:5000/lab/busybox:1.35', { domain: '127.0.0.1:5000', path: 'lab/busybox', tag: '1.35' }],
  ['xn--n3h.com/myimage:xn--n3h.com', { domain: 'xn--n3h.com', path: 'myimage', tag: 'xn--n3h.com' }],
  ['b.gcr.io/test.example.com/my-app:test.example.com', {
    domain: 'b.gcr.io',
    path: 'test.example.com/my-app',
    tag: 'test.example.com',
  }],
  // IPv6 in brackets, with or without a port.
  ['[::1]:5000/foo', { domain: '[::1]:5000', path: 'foo' }],
  ['[::1]/foo', { domain: '[::1]', path: 'foo' }],
  ['[fc00:1:2:3:4:5:6:7]:5000/library/debian', { domain: '[fc00:1:2:3:4:5:6:7]:5000', path: 'library/debian' }],
  ['[2001:db8::1]:5000/repo:tag@' + DIGEST, {
    domain: '[2001:db8::1]:5000',
    path: 'repo',
    tag: 'tag',
    digest: DIGEST,
  }],
  // An uppercase first segment cannot be a namespace, so it is taken for a host name.
  ['Foo/bar', { domain: 'Foo', path: 'bar' }],
  ['FOO/bar', { domain: 'FOO', path: 'bar' }],
  ['LOCALDOMAIN/debian', { domain: 'LOCALDOMAIN', path: 'debian' }],
  ['LOCALHOST/foo', { domain: 'LOCALHOST', path: 'foo' }],
  // A '.'-segment that is no valid host but is a valid path component: Go leaves the domain empty.
  ['a_b.com/foo', { domain: '', path: 'a_b.com/foo' }],
  // 64 hex digits are a fine name once a domain removes the ambiguity with an image ID.
  [`docker.io/${HEX}`, { domain: 'docker.io', path: `library/${HEX}` }],
  // Digests and tags.
  [`busybox@${DIGEST}`, { domain: 'docker.io', path: 'library/busybox', digest: DIGEST }],
  [`busybox:latest@${DIGEST}`, { domain: 'docker.io', path: 'library/busybox', tag: 'latest', digest: DIGEST }],
  [`test:5000/repo@${DIGEST}`, { domain: 'test:5000', path: 'repo', digest: DIGEST }],
  [`foo@${SHA384}`, { domain: 'docker.io', path: 'library/foo', digest: SHA384 }],
  [`foo:t@${SHA512}`, { domain: 'docker.io', path: 'library/foo', tag: 't', digest: SHA512 }],
  ['lowercase:Uppercase', { domain: 'docker.io', path: 'library/lowercase', tag: 'Uppercase' }],
  [`foo:${'a'.repeat(128)}`, { domain: 'docker.io', path: 'library/foo', tag: 'a'.repeat(128) }],
  ['foo:_', { domain: 'docker.io', path: 'library/foo', tag: '_' }],
  // Separators: '.', '_', '__', runs of '-'.
  ['dock__er/docker', { domain: 'docker.io', path: 'dock__er/docker' }],
  ['docker---rules/docker', { domain: 'docker.io', path: 'docker---rules/docker' }],
  ['a_b-c/e', { domain: 'docker.io', path: 'a_b-c/e' }],
  // The '.' makes 'a.b_c-d' a domain candidate; as a host it is invalid, so it falls back into the path.
  ['a.b_c-d/e', { domain: '', path: 'a.b_c-d/e' }],
  ['d/docker', { domain: 'docker.io', path: 'd/docker' }],
  // The 255 limit is on the path only: 'library/' plus 247 characters reaches it exactly.
  ['a'.repeat(247), { domain: 'docker.io', path: `library/${'a'.repeat(247)}` }],
  [`example.com/${'a'.repeat(255)}:tag`, { domain: 'example.com', path: 'a'.repeat(255), tag: 'tag' }],
  [`${'a/'.repeat(127)}a:tag-puts-this-over-max`, {
    domain: 'docker.io',
    path: `${'a/'.repeat(127)}a`,
    tag: 'tag-puts-this-over-max',
  }],
  [`${'x'.repeat(300)}.com/foo`, { domain: `${'x'.repeat(300)}.com`, path: 'foo' }],
];

test('parseNormalizedNamed normalizes as Docker does', () => {
  for (const [input, expected] of normalized) {
    assert.deepEqual(parseNormalizedNamed(input), expected, input);
  }
});

test('a normalized reference prints canonically and reparses to itself, also from its familiar form', () => {
  for (const [input] of normalized) {
    const ref = parseNormalizedNamed(input);
    assert.deepEqual(parseNamed(referenceString(ref)), ref, input);
    // The one familiar form that does not reparse: Hub's official '<64 hex>' shortens to an image ID.
    if (isFullIdentifier(familiarName(ref))) continue;
    assert.deepEqual(parseNormalizedNamed(familiarString(ref)), ref, input);
  }
  const hexRepo = parseNormalizedNamed(`docker.io/${HEX}`);
  assert.equal(familiarString(hexRepo), HEX);
  assert.throws(() => parseNormalizedNamed(familiarString(hexRepo)), /cannot specify 64-byte hexadecimal strings/);
});

const LOWERCASE = 'invalid reference format: repository name (%s) must be lowercase';
const errors: Array<[string, string]> = [
  ['', 'invalid reference format'],
  // Uppercase in the path, reported with the path as normalized so far.
  ['Foo', LOWERCASE.replace('%s', 'library/Foo')],
  ['Foo!', LOWERCASE.replace('%s', 'library/Foo!')],
  ['docker/Docker', LOWERCASE.replace('%s', 'docker/Docker')],
  ['docker.io/docker/Docker', LOWERCASE.replace('%s', 'docker/Docker')],
  ['index.docker.io/Foo', LOWERCASE.replace('%s', 'library/Foo')],
  ['localhost:5000/Foo:tag', LOWERCASE.replace('%s', 'Foo')],
  ['test:5000/Uppercase/lowercase:tag', LOWERCASE.replace('%s', 'Uppercase/lowercase')],
  // Go cuts at the first ':' whatever precedes it, so the digest algorithm ends up in the "name".
  [`foo@SHA256:${HEX}`, LOWERCASE.replace('%s', 'library/foo@SHA256')],
  // Uppercase outside the path that lowercasing would fix: the grammar's own, shorter message.
  ['Foo_bar/x', 'repository name must be lowercase'],
  ['\u0130/foo', 'repository name must be lowercase'], // Go lowercases 'İ' to plain 'i'
  ['foo:\u0130', 'repository name must be lowercase'],
  ['foo:\u212a', 'repository name must be lowercase'], // the Kelvin sign lowercases to 'k'
  // Image IDs.
  [HEX, `invalid repository name (${HEX}), cannot specify 64-byte hexadecimal strings`],
  // Length of the path (the domain does not count).
  ['a'.repeat(248), 'repository name must not be more than 255 characters'],
  [`domain/${'a'.repeat(256)}:tag`, 'repository name must not be more than 255 characters'],
  [`example.com/${'a'.repeat(256)}`, 'repository name must not be more than 255 characters'],
  // Grammar.
  ...[
    '-docker',
    '-docker/docker',
    'docker-/docker',
    '-docker-/docker',
    '-docker.io/docker/docker',
    '____/____',
    '_docker/_docker',
    'dock..er/docker',
    'dock_.er/docker',
    'dock___er/docker',
    'docker/',
    'docker///docker',
    'docker.io/docker///docker',
    ':justtag',
    `@${DIGEST}`,
    'https://github.com/docker/docker',
    'aa/asdf$$^/aa',
    'foo bar',
    'foo:',
    'foo:-tag',
    'foo:.tag',
    `foo:${'a'.repeat(129)}`,
    'foo@',
    `foo@sha256:${'f'.repeat(31)}`,
    `foo@sha256:${'g'.repeat(64)}`,
    `foo@1sha:${HEX}`,
    '[fc00::1]',
    '[fc00::1]:5000',
    '[2001:db8::1]:tag',
    'fc00::1:5000/debian',
    '[fe80::1%eth0]:5000/debian',
    '[2001:db8:3:4::192.0.2.33]:5000/debian',
    'localhost:abc/foo',
    'café',
  ].map((input): [string, string] => [input, 'invalid reference format']),
  // go-digest's errors for digests that fit the grammar but not the algorithm.
  [`repo@sha256:${'f'.repeat(34)}`, 'invalid checksum digest length'],
  [`foo@sha256:${'A'.repeat(63)}`, 'invalid checksum digest length'],
  [`foo@sha256:${'A'.repeat(64)}`, 'invalid checksum digest format'],
  [`foo@sha512:${HEX}`, 'invalid checksum digest length'],
  [`validname@invaliddigest:${'f'.repeat(64)}`, 'unsupported digest algorithm'],
  [`foo@md5:${'f'.repeat(32)}`, 'unsupported digest algorithm'],
  [`foo@sha256+b64:${'f'.repeat(32)}`, 'unsupported digest algorithm'],
  [`foo:1@MD5:${'f'.repeat(32)}`, 'invalid checksum digest format'],
];

test('parseNormalizedNamed fails with Docker’s exact messages', () => {
  for (const [input, message] of errors) {
    throwsExactly(() => parseNormalizedNamed(input), message, input);
  }
});

test('parseNamed takes only canonical names', () => {
  for (const input of [
    'docker.io/library/alpine',
    'docker.io/library/alpine:latest',
    `docker.io/library/alpine@${DIGEST}`,
    `docker.io/library/alpine:1@${DIGEST}`,
    'docker.io/user/app',
    'docker.io/library/foo/bar',
    'localhost:5000/x',
    '[::1]:5000/foo:1',
    'Foo/bar',
    'a_b.com/foo',
  ]) {
    assert.equal(referenceString(parseNamed(input)), input, input);
  }
  for (const input of [
    'alpine',
    'alpine:latest',
    'library/alpine',
    'user/app',
    'docker.io/alpine',
    'index.docker.io/library/alpine',
    'localhost',
  ]) {
    throwsExactly(() => parseNamed(input), 'repository name must be canonical', input);
  }
  // Parse errors come through unchanged.
  throwsExactly(() => parseNamed('Foo'), LOWERCASE.replace('%s', 'library/Foo'), 'Foo');
  throwsExactly(() => parseNamed('docker.io/-x'), 'invalid reference format', 'docker.io/-x');
});

test('parseAnyReference tells IDs and digests from names', () => {
  const cases: Array<[string, Reference | { digestOnly: string }]> = [
    [HEX, { digestOnly: DIGEST }],
    [DIGEST, { digestOnly: DIGEST }],
    [SHA384, { digestOnly: SHA384 }],
    [SHA512, { digestOnly: SHA512 }],
    ['redis', { domain: 'docker.io', path: 'library/redis' }],
    ['docker.io/library/redis:latest', { domain: 'docker.io', path: 'library/redis', tag: 'latest' }],
    [`redis@${DIGEST}`, { domain: 'docker.io', path: 'library/redis', digest: DIGEST }],
    // Not quite an ID: a name.
    [HEX.slice(0, 63), { domain: 'docker.io', path: `library/${HEX.slice(0, 63)}` }],
    ['dbcc1', { domain: 'docker.io', path: 'library/dbcc1' }],
    // An invalid digest falls through to name parsing, where 'sha256' is the image and the rest a tag.
    ['sha256:abcd', { domain: 'docker.io', path: 'library/sha256', tag: 'abcd' }],
    [`sha256:${HEX.toUpperCase()}`, { domain: 'docker.io', path: 'library/sha256', tag: HEX.toUpperCase() }],
    [`md5:${'f'.repeat(32)}`, { domain: 'docker.io', path: 'library/md5', tag: 'f'.repeat(32) }],
  ];
  for (const [input, expected] of cases) {
    assert.deepEqual(parseAnyReference(input), expected, input);
  }
  throwsExactly(() => parseAnyReference('Foo'), LOWERCASE.replace('%s', 'library/Foo'), 'Foo');
  throwsExactly(() => parseAnyReference(`sha256:${'f'.repeat(129)}`), 'invalid reference format', 'long tag');
});

test('familiar and canonical forms', () => {
  // input, familiarName, familiarString, repositoryName, referenceString
  const cases: Array<[string, string, string, string, string]> = [
    ['docker.io/library/foo', 'foo', 'foo', 'docker.io/library/foo', 'docker.io/library/foo'],
    ['foo:latest', 'foo', 'foo:latest', 'docker.io/library/foo', 'docker.io/library/foo:latest'],
    ['docker.io/user/app:1', 'user/app', 'user/app:1', 'docker.io/user/app', 'docker.io/user/app:1'],
    ['index.docker.io/library/ubuntu-12.04-base', 'ubuntu-12.04-base', 'ubuntu-12.04-base',
      'docker.io/library/ubuntu-12.04-base', 'docker.io/library/ubuntu-12.04-base'],
    // library/ stays when more segments follow it.
    ['docker.io/library/foo/bar', 'library/foo/bar', 'library/foo/bar', 'docker.io/library/foo/bar',
      'docker.io/library/foo/bar'],
    ['other/library', 'other/library', 'other/library', 'docker.io/other/library', 'docker.io/other/library'],
    ['localhost:5000/x', 'localhost:5000/x', 'localhost:5000/x', 'localhost:5000/x', 'localhost:5000/x'],
    ['localhost/fooo/bar', 'localhost/fooo/bar', 'localhost/fooo/bar', 'localhost/fooo/bar', 'localhost/fooo/bar'],
    ['127.0.0.1:5000/lab/busybox:1.35', '127.0.0.1:5000/lab/busybox', '127.0.0.1:5000/lab/busybox:1.35',
      '127.0.0.1:5000/lab/busybox', '127.0.0.1:5000/lab/busybox:1.35'],
    ['[::1]:5000/foo', '[::1]:5000/foo', '[::1]:5000/foo', '[::1]:5000/foo', '[::1]:5000/foo'],
    ['Foo/bar', 'Foo/bar', 'Foo/bar', 'Foo/bar', 'Foo/bar'],
    ['a_b.com/foo:t', 'a_b.com/foo', 'a_b.com/foo:t', 'a_b.com/foo', 'a_b.com/foo:t'],
    [`busybox@${DIGEST}`, 'busybox', `busybox@${DIGEST}`, 'docker.io/library/busybox',
      `docker.io/library/busybox@${DIGEST}`],
    [`busybox:latest@${DIGEST}`, 'busybox', `busybox:latest@${DIGEST}`, 'docker.io/library/busybox',
      `docker.io/library/busybox:latest@${DIGEST}`],
    [`ghcr.io/o/a:v1@${DIGEST}`, 'ghcr.io/o/a', `ghcr.io/o/a:v1@${DIGEST}`, 'ghcr.io/o/a',
      `ghcr.io/o/a:v1@${DIGEST}`],
  ];
  for (const [input, name, familiar, repo, full] of cases) {
    const ref = parseNormalizedNamed(input);
    assert.equal(familiarName(ref), name, `${input} familiarName`);
    assert.equal(familiarString(ref), familiar, `${input} familiarString`);
    assert.equal(repositoryName(ref), repo, `${input} repositoryName`);
    assert.equal(referenceString(ref), full, `${input} referenceString`);
  }
  // Hand-built references: 'library' alone is not the official prefix; other domains are never shortened.
  assert.equal(familiarName({ domain: 'docker.io', path: 'library' }), 'library');
  assert.equal(familiarName({ domain: 'docker.io', path: 'foo' }), 'foo');
  assert.equal(familiarName({ domain: 'ghcr.io', path: 'library/foo' }), 'ghcr.io/library/foo');
});

test('tagNameOnly adds latest to a bare name only', () => {
  const bare = parseNormalizedNamed('alpine');
  assert.deepEqual(tagNameOnly(bare), { domain: 'docker.io', path: 'library/alpine', tag: 'latest' });
  assert.deepEqual(bare, { domain: 'docker.io', path: 'library/alpine' }, 'input left alone');
  for (const input of ['alpine:3', `alpine@${DIGEST}`, `alpine:3@${DIGEST}`]) {
    assert.deepEqual(tagNameOnly(parseNormalizedNamed(input)), parseNormalizedNamed(input), input);
  }
});

test('withTag validates the tag, replaces any tag and keeps the digest', () => {
  const ref = parseNormalizedNamed(`alpine:3@${DIGEST}`);
  assert.deepEqual(withTag(ref, 'edge'), { domain: 'docker.io', path: 'library/alpine', tag: 'edge', digest: DIGEST });
  for (const tag of ['A', '_x', '0', 'v1.2-rc_3', 'a'.repeat(128)]) {
    assert.equal(withTag(trimNamed(ref), tag).tag, tag, tag);
  }
  for (const tag of ['', '-foo', '.x', 'a b', 'tag@x', 'a:b', 'a'.repeat(129), 'é']) {
    throwsExactly(() => withTag(ref, tag), 'invalid tag format', JSON.stringify(tag));
  }
});

test('withDigest checks the grammar only, replaces any digest and keeps the tag', () => {
  const ref = parseNormalizedNamed('alpine:3');
  assert.deepEqual(withDigest(ref, DIGEST), { domain: 'docker.io', path: 'library/alpine', tag: '3', digest: DIGEST });
  // Go's WithDigest does not run go-digest's per-algorithm checks, so these pass although Parse rejects them.
  for (const digest of [`sha256:${'f'.repeat(32)}`, `SHA256:${HEX.toUpperCase()}`, `x.y+z_w-v:${'0'.repeat(40)}`]) {
    assert.equal(withDigest(ref, digest).digest, digest, digest);
  }
  for (const digest of ['', 'foo', HEX, 'sha256:abc', `sha256:${'f'.repeat(31)}`, `sha256:${'g'.repeat(64)}`,
    `1sha:${HEX}`, `sha-:${HEX}`, `${DIGEST} `]) {
    throwsExactly(() => withDigest(ref, digest), 'invalid digest format', JSON.stringify(digest));
  }
});

test('trimNamed drops tag and digest', () => {
  assert.deepEqual(trimNamed(parseNormalizedNamed(`localhost:5000/a/b:1@${DIGEST}`)), {
    domain: 'localhost:5000',
    path: 'a/b',
  });
});

test('identifiers', () => {
  const full: Array<[string, boolean]> = [
    [HEX, true],
    [HEX.toUpperCase(), false],
    [HEX.slice(1), false],
    [HEX + '0', false],
    [DIGEST, false],
    [`${HEX}\n`, false],
  ];
  for (const [s, expected] of full) assert.equal(isFullIdentifier(s), expected, s);
  const short: Array<[string, boolean]> = [
    [HEX, true],
    [DIGEST, true],
    ['abcd', true],
    ['sha256:abcd', true],
    ['abc', false],
    ['sha256:abc', false],
    ['ABCD', false],
    ['sha512:abcd', false],
    ['abcg', false],
    [HEX + '0', false],
    ['sha256:', false],
  ];
  for (const [s, expected] of short) assert.equal(isShortIdentifier(s), expected, s);
});

test('hostile inputs fail fast (no catastrophic backtracking)', () => {
  const inputs = [
    `${'a'.repeat(100_000)}!`,
    `${'a-'.repeat(50_000)}!`,
    `${'a.'.repeat(50_000)}a/b!`,
    `${'a'.repeat(100_000)}/b!`,
    `${'ab-'.repeat(30_000)}:5000/x!`,
    `a/${'b_'.repeat(50_000)}!`,
    `a:${'b'.repeat(100_000)}`,
    `a@sha256:${'f'.repeat(100_000)}!`,
    `a:t@${'Ab.'.repeat(30_000)}:${HEX}`,
    `a:t@A${'b-'.repeat(30_000)}:${HEX}`,
    `F${'a-'.repeat(50_000)}/x!`,
  ];
  const start = performance.now();
  for (const input of inputs) assert.throws(() => parseNormalizedNamed(input), InvalidArgumentError);
  assert.ok(performance.now() - start < 2000, `took ${Math.round(performance.now() - start)} ms`);
});
