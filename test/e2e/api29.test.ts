// API 1.52-1.55 (Docker 29.7) beside 1.51 (Docker 28.5) on the same images, over raw HTTP and
// docker-py pinned to 1.55: inspect's shape, Identity, the list's identity=1, and attestations.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Daemon } from '../support/daemon.js';
import { multiPlatformImage, ociArchive, singlePlatformImage, SLSA_PREDICATE, SPDX_PREDICATE, type ImageFixture } from '../support/images.js';
import { RegistryFixture } from '../support/registry-fixture.js';
import { definitionValidator, schemaErrors, specMissing } from '../support/schema.js';

const SPEC_52 = 'docker-engine-api-v1.52.yaml';
const SPEC_55 = 'docker-engine-api-v1.55.yaml';
const AMD64 = encodeURIComponent(JSON.stringify({ os: 'linux', architecture: 'amd64' }));
const ARM64 = encodeURIComponent(JSON.stringify({ os: 'linux', architecture: 'arm64', variant: 'v8' }));
const S390X = encodeURIComponent(JSON.stringify({ os: 'linux', architecture: 's390x' }));

describe('API 1.52-1.55 as Docker 29.7', { timeout: 300_000 }, () => {
  let fx: RegistryFixture;
  let d: Daemon;
  let attested: ImageFixture;
  let single: ImageFixture;
  let pulledRef: string;

  const get = async (path: string): Promise<{ status: number; body: unknown; text: string }> => {
    const res = await d.request(path);
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      body = undefined;
    }
    return { status: res.status, body, text: res.text };
  };
  const doc = async (path: string): Promise<Record<string, unknown>> => {
    const res = await get(path);
    assert.equal(res.status, 200, `${path}: ${res.text}`);
    return res.body as Record<string, unknown>;
  };
  // Documents the tests below collect, checked against Docker's published specs by the last test
  // (which skips, saying why, where the specs are not beside the checkout).
  const toValidate: Array<{ spec: string; definition: string; value: unknown; what: string }> = [];
  const validate = (spec: string, definition: string, value: unknown, what: string): void => {
    toValidate.push({ spec, definition, value, what });
  };

  before(async () => {
    [attested, single] = await Promise.all([multiPlatformImage({ repo: 'lading-attested', sbom: true }), singlePlatformImage()]);
    fx = await RegistryFixture.start();
    d = fx.d;
    await fx.reg.push(attested, 'lab/attested:v1', { all: true });
    for (const file of [await ociArchive(attested), await ociArchive(single)]) {
      const res = await d.request('/images/load?quiet=1', { method: 'POST', body: readFileSync(file), timeoutMs: 120_000 });
      assert.equal(res.status, 200, res.text);
    }
    pulledRef = fx.reg.ref('lab/attested');
    const pull = await d.request(`/v1.51/images/create?fromImage=${encodeURIComponent(pulledRef)}&tag=v1`, { method: 'POST', timeoutMs: 120_000 });
    assert.equal(pull.status, 200, pull.text);
    assert.doesNotMatch(pull.text, /"error"/, pull.text);
  });
  after(async () => {
    await fx?.stop();
  });

  it('/version and Api-Version say 1.55; 1.56 is too new', async () => {
    const res = await d.request('/version');
    assert.equal(res.headers['api-version'], '1.55');
    assert.equal((JSON.parse(res.text) as { ApiVersion: string }).ApiVersion, '1.55');
    const tooNew = await get('/v1.56/version');
    assert.equal(tooNew.status, 400);
    assert.deepEqual(tooNew.body, { message: 'client version 1.56 is too new. Maximum supported API version is 1.55' });
  });

  it('inspect 1.51 -> 1.52: empty strings, unset Config keys and GraphDriver go; validates against the 1.52 spec', async () => {
    const old = await doc(`/v1.51/images/${single.familiar}/json`);
    const now = await doc(`/v1.52/images/${single.familiar}/json`);
    for (const key of ['Parent', 'DockerVersion', 'GraphDriver']) {
      assert.ok(key in old, `1.51 has ${key}`);
      assert.ok(!(key in now), `1.52 has no ${key}`);
    }
    const oldConfig = old.Config as Record<string, unknown>;
    const newConfig = now.Config as Record<string, unknown>;
    assert.equal(oldConfig.OnBuild, null);
    assert.equal(oldConfig.Volumes, null);
    assert.ok(!('OnBuild' in newConfig) && !('Volumes' in newConfig), JSON.stringify(newConfig));
    assert.deepEqual(newConfig, single.images[0]?.configJson.config);
    validate(SPEC_52, 'ImageInspect', now, 'inspect at 1.52');
  });

  it('inspect 1.52 -> 1.53: Identity.Pull names the repository a pulled image came from; none for a loaded one', async () => {
    const at52 = await doc(`/v1.52/images/${encodeURIComponent(pulledRef)}:v1/json`);
    const at53 = await doc(`/v1.53/images/${encodeURIComponent(pulledRef)}:v1/json`);
    assert.ok(!('Identity' in at52));
    assert.deepEqual(at53.Identity, { Pull: [{ Repository: pulledRef }] });
    assert.ok(!('Identity' in (await doc(`/v1.55/images/${single.familiar}/json`))));
    validate(SPEC_55, 'ImageInspect', await doc(`/v1.55/images/${encodeURIComponent(pulledRef)}:v1/json`), 'inspect at 1.55');
  });

  it('list 1.53 -> 1.54: identity=1 puts Identity in each available image manifest; without manifests=1 a 400', async () => {
    const filter = encodeURIComponent(JSON.stringify({ reference: { [`${pulledRef}:v1`]: true } }));
    const list = async (v: string): Promise<Array<{ Manifests: Array<{ Kind: string; Available: boolean; ImageData?: Record<string, unknown> }> }>> =>
      (await get(`/v${v}/images/json?manifests=1&identity=1&filters=${filter}`)).body as never;
    const at53 = await list('1.53');
    const at54 = await list('1.54');
    assert.equal(at53.length, 1);
    assert.ok(at53[0]?.Manifests.every((m) => !m.ImageData || !('Identity' in m.ImageData)));
    const images = at54[0]?.Manifests.filter((m) => m.Kind === 'image') ?? [];
    assert.ok(images.length >= 2);
    for (const m of images) {
      if (m.Available) assert.deepEqual(m.ImageData?.Identity, { Pull: [{ Repository: pulledRef }] });
      else assert.ok(!('Identity' in (m.ImageData ?? {})));
    }
    const conflict = await get('/v1.54/images/json?identity=1');
    assert.equal(conflict.status, 400);
    assert.deepEqual(conflict.body, { message: 'conflicting options: identity requires manifests=1' });
    assert.equal((await get('/v1.53/images/json?identity=1')).status, 200);
    validate(SPEC_55, 'ImageSummary', (at54 as unknown[])[0], 'list at 1.55');
  });

  it('attestations 1.54 -> 1.55: 404 page not found up to 1.51, 400 at 1.52-1.54, the statements at 1.55', async () => {
    const path = (v: string, q = ''): string => `/v${v}/images/${attested.familiar}/attestations${q}`;
    assert.deepEqual(await get(path('1.51')), { status: 404, body: { message: 'page not found' }, text: '{"message":"page not found"}\n' });
    for (const v of ['1.52', '1.54']) {
      const res = await get(path(v));
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, { message: 'GET /images/{name:.*}/attestations requires minimum API version 1.55' });
    }
    const layers = attested.attestation?.layers ?? [];
    const all = (await doc(path('1.55', `?platform=${AMD64}`))) as unknown as Array<Record<string, unknown>>;
    assert.deepEqual(all, [
      { Descriptor: layers[0], PredicateType: SPDX_PREDICATE },
      { Descriptor: layers[1], PredicateType: SLSA_PREDICATE },
    ]);
    validate(SPEC_55, 'AttestationStatement', all[0], 'attestation at 1.55');
    const slsa = (await doc(path('1.55', `?platform=${AMD64}&type=${encodeURIComponent(SLSA_PREDICATE)}&statement=1`))) as unknown as Array<Record<string, unknown>>;
    assert.equal(slsa.length, 1);
    assert.equal((slsa[0]?.Statement as { predicateType: string }).predicateType, SLSA_PREDICATE);
    assert.deepEqual((slsa[0]?.Statement as { predicate: unknown }).predicate, { builder: { id: 'lading-tests' }, buildType: 'https://mobyproject.org/buildkit@v1' });
    // No attestation manifest for arm64, a single-platform image: [] (never null). Absent platform: 404.
    assert.equal((await get(path('1.55', `?platform=${ARM64}`))).text, '[]\n');
    assert.equal((await get(`/v1.55/images/${single.familiar}/attestations`)).text, '[]\n');
    const absent = await get(path('1.55', `?platform=${S390X}`));
    assert.equal(absent.status, 404);
    assert.match(String((absent.body as { message: string }).message), /no manifest for platform linux\/s390x: not found$/);
    const two = await get(path('1.55', `?platform=${AMD64}&platform=${ARM64}`));
    assert.deepEqual([two.status, two.body], [400, { message: 'only one platform value is currently supported' }]);
    assert.equal((await get(path('1.55', '?platform=notjson'))).status, 400);
  });

  it('docker-py pinned to 1.55: inspect and attestations through the low-level API', async () => {
    const out = await d.pythonJson<{ inspect: Record<string, unknown>; atts: Array<Record<string, unknown>>; none: unknown }>(
      `import os\napi = docker.APIClient(base_url=os.environ['DOCKER_HOST'], version='1.55')\n` +
        `name = ${JSON.stringify(attested.familiar)}\n` +
        `atts = api._result(api._get(api._url('/images/{0}/attestations', name), params={'platform': ${JSON.stringify(decodeURIComponent(AMD64))}, 'statement': '1'}), True)\n` +
        `none = api._result(api._get(api._url('/images/{0}/attestations', ${JSON.stringify(single.familiar)})), True)\n` +
        `print(json.dumps({"inspect": api.inspect_image(${JSON.stringify(`${pulledRef}:v1`)}), "atts": atts, "none": none}))`,
    );
    assert.deepEqual(out.inspect.Identity, { Pull: [{ Repository: pulledRef }] });
    assert.ok(!('GraphDriver' in out.inspect));
    assert.deepEqual(out.atts.map((a) => a.PredicateType), [SPDX_PREDICATE, SLSA_PREDICATE]);
    assert.ok(out.atts.every((a) => typeof a.Statement === 'object'));
    assert.deepEqual(out.none, []);
  });

  it('every document collected above validates against Docker\'s 1.52 and 1.55 specs', (t) => {
    assert.ok(toValidate.length >= 4, 'the tests above collected their documents');
    const missing = [...new Set(toValidate.map((v) => v.spec))].map(specMissing).find((reason) => reason !== undefined);
    if (missing) return t.skip(missing);
    for (const { spec, definition, value, what } of toValidate) {
      assert.deepEqual(schemaErrors(definitionValidator(spec, definition), value), [], `${what} against ${spec}`);
    }
  });
});
