// Raw HTTP against ladingd: every inspect document validates against the published spec, and each API
// version shapes it as the contract says.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Daemon, type HttpResponse } from '../support/daemon.js';
import { apiBelow, assertInspect, expectImage, MAX_API } from '../support/expect.js';
import {
  hex,
  layoutTar,
  multiPlatformImage,
  noCreatedImage,
  ociArchive,
  singlePlatformImage,
  type ImageFixture,
  type Platform,
} from '../support/images.js';
import { definitionValidator, schemaErrors, specMissing } from '../support/schema.js';

const SPEC = 'docker-engine-api-v1.49.yaml';
const VERSIONS = ['1.24', '1.30', '1.40', '1.41', '1.43', '1.44', '1.47', '1.48', '1.49', '1.50', '1.51'];
const ARM64: Platform = { os: 'linux', architecture: 'arm64' };
const ARM64_QUERY = `platform=${encodeURIComponent(JSON.stringify(ARM64))}`;
// Docker 28 itself sends GraphDriver.Data null although the spec marks it `x-nullable: false`.
const NULL_AT = ['/GraphDriver/Data'];

/** The path as the Go client sends it: `/`, `:` and `@` of the name left as they are. */
function inspectPath(name: string, version?: string, query = ''): string {
  return `${version ? `/v${version}` : ''}/images/${encodeURI(name)}/json${query ? `?${query}` : ''}`;
}

describe('image inspect over HTTP: schema and API versions', { timeout: 300_000 }, () => {
  let d: Daemon;
  let single: ImageFixture;
  let multi: ImageFixture;
  let nocreated: ImageFixture;
  let partial: ImageFixture;
  // Without the spec, error bodies are still compared exactly; only the schema checks go.
  const noSpec = specMissing(SPEC);
  const inspectValidator = noSpec === undefined ? definitionValidator(SPEC, 'ImageInspect') : undefined;
  const errorValidator = noSpec === undefined ? definitionValidator(SPEC, 'ErrorResponse') : undefined;
  /** Every 200 inspect document this file sees, validated at the end. */
  const seen: Array<{ path: string; doc: unknown }> = [];

  before(async () => {
    [single, multi, nocreated, partial] = await Promise.all([
      singlePlatformImage(),
      multiPlatformImage(),
      noCreatedImage(),
      multiPlatformImage({ omit: 'arm64' }),
    ]);
    d = await Daemon.start();
    const archives = [
      await ociArchive(single),
      await ociArchive(multi),
      await layoutTar(nocreated),
      await layoutTar(partial),
    ];
    for (const file of archives) {
      const res = await d.request('/images/load?quiet=1', {
        method: 'POST',
        body: readFileSync(file),
        headers: { 'Content-Type': 'application/x-tar' },
        timeoutMs: 120_000,
      });
      assert.equal(res.status, 200, `load ${file}: ${res.text}\n${d.logs()}`);
      assert.doesNotMatch(res.text, /"error"/, `load ${file}: ${res.text}`);
    }
  });
  after(async () => {
    await d?.stop();
  });

  function assertCommonHeaders(res: HttpResponse, what: string): void {
    assert.equal(res.headers['api-version'], MAX_API, `${what}: Api-Version`);
    assert.equal(res.headers['ostype'], 'linux', `${what}: Ostype`);
    assert.equal(res.headers['docker-experimental'], 'false', `${what}: Docker-Experimental`);
    assert.match(String(res.headers['server']), /^\S+\/\S+ \(linux\)$/, `${what}: Server`);
  }

  /** GET an inspect document: 200, JSON + newline, headers; remembered for the schema check. */
  async function inspect(name: string, version?: string, query = ''): Promise<Record<string, unknown>> {
    const path = inspectPath(name, version, query);
    const res = await d.request(path);
    assert.equal(res.status, 200, `GET ${path}: ${res.text}`);
    assert.equal(res.headers['content-type'], 'application/json', `GET ${path}: Content-Type`);
    assert.ok(res.text.endsWith('}\n'), `GET ${path}: body ends with a newline`);
    assertCommonHeaders(res, `GET ${path}`);
    const doc = res.json<Record<string, unknown>>();
    seen.push({ path, doc });
    return doc;
  }

  /** An error answer: exact status and message, JSON + newline, headers on it too. */
  async function assertError(path: string, status: number, message: string, method = 'GET'): Promise<void> {
    const res = await d.request(path, { method });
    assert.equal(res.status, status, `${method} ${path}: status (body ${res.text})`);
    assertCommonHeaders(res, `${method} ${path}`);
    if (method === 'HEAD') return;
    assert.equal(res.headers['content-type'], 'application/json', `${method} ${path}: Content-Type`);
    assert.equal(res.text, JSON.stringify({ message }) + '\n', `${method} ${path}: body`);
    if (errorValidator) assert.deepEqual(schemaErrors(errorValidator, res.json()), []);
  }

  it('every image at every API version, with manifests=1 and platform=, matches the contract', async () => {
    for (const fx of [single, multi, nocreated, partial]) {
      for (const version of [...VERSIONS, undefined]) {
        const v = version ?? MAX_API;
        assertInspect(await inspect(fx.familiar, version), expectImage(fx, { apiVersion: v }));
        const manifests = !apiBelow(v, '1.48');
        assertInspect(await inspect(fx.familiar, version, 'manifests=1'), expectImage(fx, { apiVersion: v }), { manifests });
        if (fx === multi) {
          const honoured = !apiBelow(v, '1.49');
          const exp = expectImage(fx, { apiVersion: v, ...(honoured ? { platform: ARM64 } : {}) });
          assertInspect(await inspect(fx.familiar, version, ARM64_QUERY), exp);
        }
      }
    }
  });

  it('VirtualSize only below 1.44', async () => {
    const old = await inspect(single.familiar, '1.43');
    assert.equal(old.VirtualSize, old.Size);
    assert.ok(!('VirtualSize' in (await inspect(single.familiar, '1.44'))));
  });

  it('no created: 0001-01-01T00:00:00Z below 1.44, key absent from 1.44', async () => {
    assert.equal((await inspect(nocreated.familiar, '1.43')).Created, '0001-01-01T00:00:00Z');
    assert.ok(!('Created' in (await inspect(nocreated.familiar, '1.44'))));
    assert.ok(!('Created' in (await inspect(nocreated.familiar))));
  });

  it('Descriptor from 1.48', async () => {
    assert.ok(!('Descriptor' in (await inspect(multi.familiar, '1.47'))));
    const { mediaType, digest, size } = (await inspect(multi.familiar, '1.48')).Descriptor as Record<string, unknown>;
    assert.deepEqual({ mediaType, digest, size }, { mediaType: multi.target.mediaType, digest: multi.id, size: multi.target.size });
  });

  it('legacy Config keys up to 1.49, gone from 1.50', async () => {
    const legacy = ['AttachStderr', 'AttachStdin', 'AttachStdout', 'Domainname', 'Hostname', 'Image', 'OpenStdin', 'StdinOnce', 'Tty'];
    const c49 = (await inspect(single.familiar, '1.49')).Config as Record<string, unknown>;
    for (const k of legacy) assert.ok(k in c49, `1.49 Config has ${k}`);
    const c50 = (await inspect(single.familiar, '1.50')).Config as Record<string, unknown>;
    for (const k of legacy) assert.ok(!(k in c50), `1.50 Config lacks ${k}`);
  });

  it('manifests=1 ignored below 1.48', async () => {
    assert.ok(!('Manifests' in (await inspect(multi.familiar, '1.47', 'manifests=1'))));
    const doc = await inspect(multi.familiar, '1.48', 'manifests=1');
    assert.equal((doc.Manifests as unknown[]).length, 3);
    for (const falsy of ['0', 'false', 'no', 'none', 'FALSE', '']) {
      assert.ok(!('Manifests' in (await inspect(multi.familiar, undefined, `manifests=${falsy}`))), `manifests=${falsy}`);
    }
  });

  it('platform= ignored below 1.49', async () => {
    assert.equal((await inspect(multi.familiar, '1.48', ARM64_QUERY)).Id, multi.id);
    assert.equal((await inspect(multi.familiar, '1.49', ARM64_QUERY)).Id, multi.images[1]?.manifest.digest);
  });

  it('query errors: 400 with the exact messages', async () => {
    // The parser's own words are Go's encoding/json texts.
    await assertError(
      `${inspectPath(multi.familiar)}?platform=${encodeURIComponent('{"os":')}`,
      400,
      'failed to parse platform: unexpected end of JSON input',
    );
    await assertError(
      `${inspectPath(multi.familiar)}?platform=notjson`,
      400,
      "failed to parse platform: invalid character 'o' in literal null (expecting 'u')",
    );
    await assertError(
      `${inspectPath(multi.familiar)}?platform=${encodeURIComponent('{"os":"linux"}')}`,
      400,
      'both OS and Architecture must be provided',
    );
    await assertError(
      `${inspectPath(multi.familiar)}?platform=${encodeURIComponent('{"variant":"v8"}')}`,
      400,
      'optional platform fields provided, but OS and Architecture are missing',
    );
    await assertError(
      `${inspectPath(multi.familiar)}?manifests=1&${ARM64_QUERY}`,
      400,
      'conflicting options: manifests and platform options cannot both be set',
    );
  });

  it('API versions out of range: 400', async () => {
    await assertError(
      inspectPath(single.familiar, '1.12'),
      400,
      'client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version',
    );
    await assertError(inspectPath(single.familiar, '1.99'), 400, 'client version 1.99 is too new. Maximum supported API version is 1.55');
  });

  it('unknown paths and HEAD on inspect: 404 page not found', async () => {
    await assertError('/nosuch/path', 404, 'page not found');
    await assertError('/v1.51/images/lading-single:v1/nosuch', 404, 'page not found');
    await assertError(inspectPath(single.familiar), 404, 'page not found', 'HEAD');
  });

  it('short ID prefixes: 4 hex chars resolve, a prefix of nothing is not found', async () => {
    const ids = [single, multi, nocreated, partial].map((fx) => hex(fx.id));
    const unique = (p: string) => ids.filter((id) => id.startsWith(p)).length;
    let len = 4;
    while (unique(hex(single.id).slice(0, len)) !== 1) len++;
    const prefix = hex(single.id).slice(0, len);
    assert.equal((await inspect(prefix)).Id, single.id);
    assert.equal((await inspect(`sha256:${prefix}`)).Id, single.id);
    let none = 0;
    while (unique(none.toString(16).padStart(4, '0')) !== 0) none++;
    const nothing = none.toString(16).padStart(4, '0');
    await assertError(inspectPath(nothing), 404, `No such image: ${nothing}:latest`);
  });

  it('not-found messages name the familiar reference', async () => {
    const zero = 'sha256:' + '0'.repeat(64);
    await assertError(inspectPath('someimage'), 404, 'No such image: someimage:latest');
    await assertError(inspectPath('docker.io/library/someimage:1.0'), 404, 'No such image: someimage:1.0');
    await assertError(inspectPath('localhost:5000/x'), 404, 'No such image: localhost:5000/x:latest');
    await assertError(inspectPath(zero), 404, `No such image: ${zero}`);
    await assertError(inspectPath(`alpine@${zero}`), 404, `No such image: alpine@${zero}`);
    await assertError(inspectPath(`other@${single.id}`), 404, `No such image: other@${single.id}`);
    // {name} is greedy and the path is decoded: slashes, a port and a tag in it.
    await assertError('/images/127.0.0.1:5000/lab/busybox:1.35/json', 404, 'No such image: 127.0.0.1:5000/lab/busybox:1.35');
  });

  it('uppercase repository: 400 invalid reference format', async () => {
    await assertError(inspectPath('Foo'), 400, 'invalid reference format: repository name (library/Foo) must be lowercase');
  });

  it('every inspect document seen validates against ImageInspect of the v1.49 spec', (t) => {
    if (!inspectValidator) return t.skip(noSpec);
    assert.ok(seen.length > 50, `collected ${seen.length} documents`);
    const failures = seen.flatMap(({ path, doc }) => schemaErrors(inspectValidator, doc, NULL_AT).map((e) => `${path}: ${e}`));
    assert.deepEqual(failures, []);
  });
});
