// API 1.52 (Docker 29.7) beside 1.51 (Docker 28.5) for the system endpoints, over raw HTTP and
// docker-py pinned to 1.55: GET /events' stream types and message, GET /system/df's usage objects.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Daemon } from '../support/daemon.js';
import { ociArchive, singlePlatformImage, type ImageFixture } from '../support/images.js';
import { definitionValidator, schemaErrors, specMissing } from '../support/schema.js';

const SPECS = ['docker-engine-api-v1.52.yaml', 'docker-engine-api-v1.55.yaml'];
const TAG_EVENTS = encodeURIComponent('{"event":["tag"]}');
const USAGE_DEFINITIONS = {
  ImageUsage: 'ImagesDiskUsage',
  ContainerUsage: 'ContainersDiskUsage',
  VolumeUsage: 'VolumesDiskUsage',
  BuildCacheUsage: 'BuildCacheDiskUsage',
} as const;
const LEGACY = ['LayersSize', 'Images', 'Containers', 'Volumes', 'BuildCache'];

describe('API 1.52 system endpoints as Docker 29.7', { timeout: 180_000 }, () => {
  let d: Daemon;
  let single: ImageFixture;
  let until = 0;

  // Documents the tests below collect, checked against Docker's published specs by the last test
  // (which skips, saying why, where the specs are not beside the checkout).
  const toValidate: Array<{ definition: string; value: unknown; what: string }> = [];
  const validate = (definition: string, value: unknown, what: string): void => {
    toValidate.push({ definition, value, what });
  };
  /** The tag event kept since the start, the stream ending at `until` (already past or about to be). */
  const events = (version: string, accept?: string) =>
    d.request(`/v${version}/events?since=0&until=${until}&filters=${TAG_EVENTS}`, accept ? { headers: { Accept: accept } } : {});
  const df = async (path: string): Promise<Record<string, unknown>> => {
    const res = await d.request(path);
    assert.equal(res.status, 200, res.text);
    return JSON.parse(res.text) as Record<string, unknown>;
  };

  before(async () => {
    single = await singlePlatformImage();
    d = await Daemon.start();
    const load = await d.request('/images/load?quiet=1', { method: 'POST', body: readFileSync(await ociArchive(single)), timeoutMs: 120_000 });
    assert.equal(load.status, 200, load.text);
    const tag = await d.request(`/images/${single.familiar}/tag?repo=lading-events&tag=t1`, { method: 'POST' });
    assert.equal(tag.status, 201, tag.text);
    until = Math.ceil(Date.now() / 1000);
  });
  after(async () => {
    await d?.stop();
  });

  it('events at 1.51: application/json whatever Accept asks, the legacy status/id back-filled', async () => {
    for (const accept of [undefined, 'application/json-seq', 'application/jsonl']) {
      const res = await events('1.51', accept);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/json', `Accept: ${accept}`);
      assert.notEqual(res.body[0], 0x1e);
      const lines = res.text.trimEnd().split('\n');
      assert.equal(lines.length, 1, res.text);
      const message = JSON.parse(lines[0]!) as Record<string, unknown>;
      assert.equal(message.status, 'tag');
      assert.equal(message.id, single.id);
      assert.equal(message.Action, 'tag');
    }
  });

  it('events at 1.52: application/jsonl by default, x-ndjson on request, no legacy fields; validates as EventMessage', async () => {
    for (const [accept, type] of [
      [undefined, 'application/jsonl'],
      ['*/*', 'application/jsonl'],
      ['application/x-ndjson', 'application/x-ndjson'],
      ['application/jsonl, application/x-ndjson;q=0.9, application/json-seq;q=0.5', 'application/jsonl'],
    ] as const) {
      const res = await events('1.52', accept);
      assert.equal(res.headers['content-type'], type, `Accept: ${accept}`);
      assert.match(res.text, /^\{[^\n]*\}\n$/, 'one record, one line');
      const message = JSON.parse(res.text) as Record<string, unknown>;
      for (const key of ['status', 'id', 'from']) assert.ok(!(key in message), `no ${key} at 1.52`);
      assert.deepEqual(Object.keys(message), ['Type', 'Action', 'Actor', 'scope', 'time', 'timeNano']);
      assert.equal((message.Actor as { ID: string }).ID, single.id);
      validate('EventMessage', message, 'a 1.52 event');
    }
  });

  it('events at 1.52 as application/json-seq: each record is 0x1E, the JSON, LF (RFC 7464)', async () => {
    const res = await events('1.55', 'application/json-seq');
    assert.equal(res.headers['content-type'], 'application/json-seq');
    assert.equal(res.body[0], 0x1e);
    assert.equal(res.body[res.body.length - 1], 0x0a);
    assert.equal(res.body.filter((b) => b === 0x1e).length, 1);
    const message = JSON.parse(res.body.subarray(1).toString()) as Record<string, unknown>;
    assert.equal(message.Action, 'tag');
    assert.ok(!('status' in message));
  });

  it('events at 1.52: a since or until that does not parse is a 400 with Docker 29.7\'s text (500 at 1.51)', async () => {
    const bad = await d.request('/v1.52/events?since=yesterday');
    assert.deepEqual([bad.status, bad.json()], [
      400,
      { message: 'invalid value for \'since\': invalid timestamp "yesterday": invalid seconds "yesterday": invalid syntax' },
    ]);
    const fraction = await d.request('/v1.52/events?until=10.5x');
    assert.deepEqual([fraction.status, fraction.json()], [
      400,
      { message: 'invalid value for \'until\': invalid timestamp "10.5x": invalid nanoseconds: invalid character \'x\' at position 1' },
    ]);
    assert.equal((await d.request('/v1.51/events?since=yesterday')).status, 500);
  });

  it('df at 1.51 (Docker 28.5): the legacy document only', async () => {
    const doc = await df('/v1.51/system/df');
    assert.deepEqual(Object.keys(doc), LEGACY);
    assert.equal((doc.Images as unknown[]).length, 1);
    assert.ok((doc.LayersSize as number) > 0);
  });

  it('df at 1.52: the legacy fields and the per-type objects (zeros left out); verbose=1 without the legacy; type= picks', async () => {
    const doc = await df('/v1.52/system/df');
    assert.deepEqual(Object.keys(doc), [...LEGACY, ...Object.keys(USAGE_DEFINITIONS)]);
    const images = doc.ImageUsage as Record<string, unknown>;
    const [summary] = doc.Images as Array<{ Id: string; Size: number; SharedSize: number }>;
    assert.equal(summary?.Id, single.id);
    // Lading runs no containers: no image is active, each frees its unique size.
    assert.deepEqual(images, {
      Items: doc.Images,
      Reclaimable: summary.Size - summary.SharedSize,
      TotalCount: 1,
      TotalSize: doc.LayersSize,
    });
    for (const key of ['ContainerUsage', 'VolumeUsage', 'BuildCacheUsage']) assert.deepEqual(doc[key], {}, key);
    for (const [key, definition] of Object.entries(USAGE_DEFINITIONS)) validate(definition, doc[key], `1.52 df ${key}`);

    const verbose = await df('/v1.52/system/df?verbose=1');
    assert.deepEqual(verbose, { ImageUsage: images, ContainerUsage: {}, VolumeUsage: {}, BuildCacheUsage: {} });

    assert.deepEqual(await df('/v1.52/system/df?type=container'), { Containers: [], ContainerUsage: {} });
    assert.deepEqual(await df('/v1.52/system/df?type=image&verbose=1'), { ImageUsage: images });
  });

  it('docker-py pinned to 1.55: df() and events(decode=True)', async () => {
    const out = await d.pythonJson<{ df: Record<string, unknown>; events: Array<Record<string, unknown>> }>(
      `import os\napi = docker.APIClient(base_url=os.environ['DOCKER_HOST'], version='1.55')\n` +
        `events = list(api.events(decode=True, since=0, until=${until}, filters={'event': ['tag']}))\n` +
        `print(json.dumps({"df": api.df(), "events": events}))`,
    );
    assert.equal((out.df.ImageUsage as { TotalCount: number }).TotalCount, 1);
    assert.equal((out.df.Images as unknown[]).length, 1);
    assert.deepEqual(out.events.map((e) => [e.Action, (e.Actor as { Attributes: { name: string } }).Attributes.name]), [['tag', 'lading-events:t1']]);
    assert.ok(!('status' in (out.events[0] ?? {})));
  });

  it('every document collected above validates against Docker\'s 1.52 and 1.55 specs', (t) => {
    assert.ok(toValidate.length > 0, 'the tests above collected their documents');
    const missing = SPECS.map(specMissing).find((reason) => reason !== undefined);
    if (missing) return t.skip(missing);
    for (const spec of SPECS) {
      for (const { definition, value, what } of toValidate) {
        assert.deepEqual(schemaErrors(definitionValidator(spec, definition), value), [], `${what} against ${spec}`);
      }
    }
  });
});
