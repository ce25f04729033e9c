// Tag, remove, prune and events against ladingd, through the docker CLI, dockerode, docker-py and raw
// HTTP; the content store is checked on disk after removals, and under concurrent requests.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import {
  indexImage,
  layoutArchive,
  manifestImage,
  sharedLayer,
  type TestImage,
} from '../../src/images/testing/mutation-fixture.js';
import { Daemon } from '../support/daemon.js';
import type { RunResult } from '../support/exec.js';
import { layoutTar, multiPlatformImage, noCreatedImage, ociArchive, singlePlatformImage, type ImageFixture } from '../support/images.js';
import { tempDir } from '../support/paths.js';

const INDEX_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'];
const MANIFEST_TYPES = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'];

/** `seconds.nanoseconds`, the form `docker events --since/--until` passes through unchanged. */
function unixTime(ms: number): string {
  return `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}000000`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('image lifecycle: tag, rmi, prune, events', { timeout: 600_000 }, () => {
  let d: Daemon;
  let single: ImageFixture;
  let multi: ImageFixture;
  let nocreated: ImageFixture;
  let files: { single: string; multi: string; nocreated: string; shared: string; sharedB: string };
  let a: TestImage;
  let b: Awaited<ReturnType<typeof indexImage>>;
  let base: Awaited<ReturnType<typeof sharedLayer>>;

  before(async () => {
    [single, multi, nocreated] = await Promise.all([singlePlatformImage(), multiPlatformImage(), noCreatedImage()]);
    base = await sharedLayer('lifecycle base');
    a = await manifestImage({ marker: 'lc-a', shared: [base], labels: { 'com.example.team': 'alpha' } });
    b = await indexImage({ marker: 'lc-b', shared: [base], labels: { 'com.example.team': 'beta' } });
    const dir = tempDir('lifecycle');
    files = {
      single: await ociArchive(single),
      multi: await ociArchive(multi),
      nocreated: await layoutTar(nocreated),
      shared: path.join(dir, 'lc-a.tar'),
      sharedB: path.join(dir, 'lc-b.tar'),
    };
    writeFileSync(files.shared, await layoutArchive([{ image: a, name: 'docker.io/library/lc-a:1' }]));
    writeFileSync(files.sharedB, await layoutArchive([{ image: b, name: 'docker.io/library/lc-b:1' }]));
    d = await Daemon.start();
    for (const file of [files.single, files.multi, files.nocreated, files.shared, files.sharedB]) {
      ok(await d.docker(['load', '-i', file], { timeoutMs: 120_000 }), `docker load ${file}`);
    }
  });
  after(async () => {
    await d?.stop();
  });

  function ok(res: RunResult, what: string): RunResult {
    assert.equal(res.code, 0, `${what} exited ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}\n${d.logs()}`);
    return res;
  }

  function fails(res: RunResult, stderr: string, what: string): void {
    assert.equal(res.code, 1, `${what}: exit ${res.code}\n${res.stdout}\n${res.stderr}`);
    assert.equal(res.stderr.trim(), stderr, what);
  }

  async function inspect(name: string): Promise<Record<string, unknown> | undefined> {
    const res = await d.request(`/images/${name}/json`);
    if (res.status === 404) return undefined;
    assert.equal(res.status, 200, `inspect ${name}: ${res.text}`);
    return res.json<Record<string, unknown>>();
  }

  const blobDir = (): string => path.join(d.dataRoot, 'content', 'blobs', 'sha256');
  const onDisk = (): Set<string> => new Set(readdirSync(blobDir()).map((hex) => `sha256:${hex}`));
  const blobJson = (digest: string): { manifests?: Array<{ digest: string; mediaType: string }>; config?: { digest: string }; layers?: Array<{ digest: string }> } =>
    JSON.parse(readFileSync(path.join(blobDir(), digest.slice(7)), 'utf8'));

  /**
   * The store on disk against the images that exist: no blob that no image reaches, and every
   * config and layer of every manifest that is there.
   */
  function assertStoreMatches(targets: Array<{ digest: string; mediaType: string }>): void {
    const files = onDisk();
    const reachable = new Set<string>();
    const walk = (desc: { digest: string; mediaType: string }): void => {
      reachable.add(desc.digest);
      if (!files.has(desc.digest)) return;
      if (INDEX_TYPES.includes(desc.mediaType)) {
        for (const child of blobJson(desc.digest).manifests ?? []) walk(child);
      } else if (MANIFEST_TYPES.includes(desc.mediaType)) {
        const m = blobJson(desc.digest);
        for (const child of [m.config!, ...(m.layers ?? [])]) {
          reachable.add(child.digest);
          assert.ok(files.has(child.digest), `${child.digest} of manifest ${desc.digest} is missing from the store`);
        }
      }
    };
    for (const target of targets) walk(target);
    const orphans = [...files].filter((f) => !reachable.has(f));
    assert.deepEqual(orphans, [], 'blobs no image reaches');
  }

  /** Targets of the images that exist among these IDs. */
  async function existing(ids: string[]): Promise<Array<{ digest: string; mediaType: string }>> {
    const out: Array<{ digest: string; mediaType: string }> = [];
    for (const id of new Set(ids)) {
      const doc = await inspect(id);
      if (doc) out.push(doc.Descriptor as { digest: string; mediaType: string });
    }
    return out;
  }

  const allIds = (): string[] => [single.id, multi.id, nocreated.id, a.target.digest, b.target.digest];

  it('docker tag: 201 with no body; LastTagTime moves; refusals as Docker words them', async () => {
    const before = (await inspect('lading-single:v1'))!;
    await sleep(5);
    const res = ok(await d.docker(['tag', 'lading-single:v1', 'lab/single:v2']), 'docker tag');
    assert.equal(res.stdout, '');
    const after = (await inspect('lab/single:v2'))!;
    assert.equal(after.Id, single.id);
    assert.deepEqual((after.RepoTags as string[]).sort(), ['lab/single:v2', 'lading-single:v1']);
    const lastTag = (doc: Record<string, unknown>): string => (doc.Metadata as { LastTagTime: string }).LastTagTime;
    assert.ok(Date.parse(lastTag(after)) > Date.parse(lastTag(before)), `${lastTag(after)} after ${lastTag(before)}`);

    const raw = await d.request('/v1.51/images/lading-single:v1/tag?repo=lab/raw&tag=1', { method: 'POST' });
    assert.equal(raw.status, 201);
    assert.equal(raw.text, '');
    assert.equal(raw.headers['content-type'], undefined);
    // Tagging a name with the target it already has changes nothing.
    const same = await d.request('/images/lading-single:v1/tag?repo=lab/raw&tag=1', { method: 'POST' });
    assert.equal(same.status, 201);
    assert.equal(lastTag((await inspect('lab/raw:1'))!), lastTag((await inspect('lab/raw:1'))!));

    const refusals: Array<[string, number, string]> = [
      ['repo=sha256', 400, 'refusing to create an ambiguous tag using digest algorithm as name'],
      ['repo=sha256&tag=abc', 400, 'refusing to create an ambiguous tag using digest algorithm as name'],
      [`repo=x@${single.id}`, 400, 'cannot import digest reference'],
      ['repo=Upper', 400, 'invalid reference format: repository name (library/Upper) must be lowercase'],
      ['repo=x&tag=bad%20tag', 400, 'invalid tag format'],
      ['repo=a%20b', 400, 'invalid reference format'],
    ];
    for (const [query, status, message] of refusals) {
      const r = await d.request(`/images/lading-single:v1/tag?${query}`, { method: 'POST' });
      assert.equal(r.status, status, query);
      assert.deepEqual(r.json(), { message }, query);
    }
    const noRepo = await d.request('/images/lading-single:v1/tag?tag=x', { method: 'POST' });
    assert.equal(noRepo.status, 200, 'no repo: Docker does nothing and says 200');
    assert.equal(noRepo.text, '');
    const missing = await d.request('/images/nosuch/tag?repo=x', { method: 'POST' });
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json(), { message: 'No such image: nosuch:latest' });
    const badSource = await d.request('/images/Bad/tag?repo=x', { method: 'POST' });
    assert.equal(badSource.status, 404, 'Docker answers 404 whatever GetImage failed with');

    fails(await d.docker(['tag', 'lading-single:v1', 'sha256:abc']), 'Error response from daemon: refusing to create an ambiguous tag using digest algorithm as name', 'tag sha256:abc');
    fails(await d.docker(['tag', 'nosuch', 'x']), 'Error response from daemon: No such image: nosuch:latest', 'tag nosuch');
  });

  it('retagging moves the name; the image it leaves is dangling when nothing else names it', async () => {
    ok(await d.docker(['tag', 'lading-nocreated:v1', 'lab/moving:1']), 'tag');
    ok(await d.docker(['rmi', 'lading-nocreated:v1']), 'rmi the other name');
    ok(await d.docker(['tag', 'lading-single:v1', 'lab/moving:1']), 'move');
    assert.equal((await inspect('lab/moving:1'))?.Id, single.id);
    const left = await inspect(nocreated.id);
    assert.ok(left, 'the image the name left still exists');
    assert.deepEqual(left.RepoTags, []);
    assert.deepEqual(left.RepoDigests, []);
  });

  it('docker rmi: untag, conflict, forced delete, missing images, and the store on disk', async () => {
    let res = ok(await d.docker(['rmi', 'lab/single:v2']), 'rmi one of several names');
    assert.equal(res.stdout, 'Untagged: lab/single:v2\n');
    assert.ok(await inspect('lading-single:v1'));

    const short = single.id.slice(7, 19);
    fails(
      await d.docker(['rmi', short]),
      `Error response from daemon: conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`,
      'rmi by ID with several names',
    );
    const conflict = await d.request(`/images/${single.id}`, { method: 'DELETE' });
    assert.equal(conflict.status, 409);

    res = ok(await d.docker(['image', 'rm', '-f', short]), 'rmi -f by ID');
    assert.equal(
      res.stdout,
      ['Untagged: lab/moving:1', 'Untagged: lab/raw:1', 'Untagged: lading-single:v1', `Deleted: ${single.id}`, ''].join('\n'),
    );
    assert.equal(await inspect(single.id), undefined);
    for (const layer of single.images[0]!.layers) assert.ok(!onDisk().has(layer.digest), `layer ${layer.digest} went`);

    fails(await d.docker(['rmi', 'nosuch']), 'Error response from daemon: No such image: nosuch:latest', 'rmi nosuch');
    res = await d.docker(['rmi', '-f', 'nosuch']);
    assert.equal(res.code, 0, 'rmi -f of a missing image succeeds');
    assert.equal(res.stderr.trim(), 'Error response from daemon: No such image: nosuch:latest');

    const blank = await d.request('/images/%20', { method: 'DELETE' });
    assert.equal(blank.status, 400);
    assert.deepEqual(blank.json(), { message: 'image name cannot be blank' });

    // lc-a and lc-b share a base layer: removing lc-a keeps it.
    res = ok(await d.docker(['rmi', 'lc-a:1']), 'rmi lc-a');
    assert.equal(res.stdout, `Untagged: lc-a:1\nDeleted: ${a.target.digest}\n`);
    assert.ok(onDisk().has(base.desc.digest), 'the shared base stays');
    assertStoreMatches(await existing(allIds()));
  });

  it('docker rmi --platform: only that platform, and only with -f', async () => {
    fails(
      await d.docker(['rmi', '--platform', 'linux/arm64', 'lc-b:1']),
      'Error response from daemon: Content will be removed from all images referencing this variant. Use —-force to force delete.',
      'rmi --platform without -f',
    );
    const arm64 = b.platforms[1]!;
    const res = ok(await d.docker(['rmi', '-f', '--platform', 'linux/arm64', 'lc-b:1']), 'rmi -f --platform');
    assert.equal(res.stdout, `Deleted: ${arm64.target.digest}\n`);
    const doc = await d.request('/images/lc-b:1/json?manifests=1');
    const manifests = doc.json<{ Manifests: Array<{ ID: string; Available: boolean }> }>().Manifests;
    assert.deepEqual(manifests.map((m) => [m.ID, m.Available]), [
      [b.platforms[0]!.target.digest, true],
      [arm64.target.digest, false],
    ]);
    assert.ok(onDisk().has(base.desc.digest), 'amd64 still uses the base');
    const again = await d.request(`/v1.50/images/lc-b:1?force=1&platforms=${encodeURIComponent('{"os":"linux","architecture":"arm64"}')}`, { method: 'DELETE' });
    assert.equal(again.status, 404);
    assert.deepEqual(again.json(), {
      message: `failed to delete platform linux/arm64 for image ${b.target.digest}: image with reference lc-b:1 was found but does not provide the specified platform (linux/arm64)`,
    });
    const old = await d.request(`/v1.49/images/nosuch?platforms=${encodeURIComponent('{"os":"linux"}')}`, { method: 'DELETE' });
    assert.equal(old.status, 404, 'platforms is not read below API 1.50');
    const bad = await d.request(`/v1.50/images/lc-b:1?force=1&platforms=${encodeURIComponent('{"os":"linux"}')}`, { method: 'DELETE' });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json(), { message: 'both OS and Architecture must be provided' });
    assertStoreMatches(await existing(allIds()));
  });

  it('docker image prune: dangling by default, all with -a, filters', async () => {
    const dangling = nocreated.id;
    let res = ok(await d.docker(['image', 'prune', '-f']), 'prune');
    assert.match(res.stdout, new RegExp(`^Deleted Images:\nuntagged: ${dangling}\ndeleted: ${dangling}\n\nTotal reclaimed space: [0-9.]+[kM]?B\n$`));
    assert.equal(await inspect(dangling), undefined);
    res = ok(await d.docker(['image', 'prune', '-f']), 'prune again');
    assert.equal(res.stdout, 'Total reclaimed space: 0B\n');

    res = ok(await d.docker(['image', 'prune', '-af', '--filter', 'label=com.example.team=beta']), 'prune -a label');
    assert.match(res.stdout, new RegExp(`^Deleted Images:\nuntagged: lc-b:1\ndeleted: ${b.target.digest}\ndeleted: ${b.platforms[0]!.target.digest}\n`));
    res = ok(await d.docker(['image', 'prune', '-af', '--filter', 'until=2000-01-01T00:00:00Z']), 'prune -a until');
    assert.equal(res.stdout, 'Total reclaimed space: 0B\n');

    const badFilter = await d.request(`/images/prune?filters=${encodeURIComponent('{"reference":{"x":true}}')}`, { method: 'POST' });
    assert.equal(badFilter.status, 400);
    assert.deepEqual(badFilter.json(), { message: "invalid filter 'reference'" });
    const empty = await d.request('/images/prune', { method: 'POST' });
    assert.equal(empty.text, '{"ImagesDeleted":null,"SpaceReclaimed":0}\n');
    assertStoreMatches(await existing(allIds()));
  });

  it('docker events --since/--until: what happened, as the CLI prints it', async () => {
    ok(await d.docker(['load', '-i', files.single]), 'load');
    const t0 = Date.now();
    await sleep(10);
    ok(await d.docker(['tag', 'lading-single:v1', 'ev/one:1']), 'tag');
    ok(await d.docker(['rmi', 'ev/one:1']), 'untag');
    ok(await d.docker(['rmi', 'lading-single:v1']), 'delete');
    await sleep(10);
    const t1 = Date.now();
    const id = single.id;
    const labels = 'com.example.html=<b>&</b>, com.example.platform=linux/amd64';
    const res = ok(await d.docker(['events', '--since', unixTime(t0), '--until', unixTime(t1)]), 'docker events');
    const lines = res.stdout.trim().split('\n');
    const stamp = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}(?:Z|[+-]\\d\\d:\\d\\d)';
    const expected = [
      `image tag ${id} (${labels}, name=ev/one:1, org.opencontainers.image.title=lading single)`,
      `image untag ${id} (name=ev/one:1)`,
      `image untag ${id} (name=lading-single:v1)`,
      `image delete ${id} (name=${id})`,
    ];
    assert.equal(lines.length, expected.length, res.stdout);
    lines.forEach((line, i) => {
      assert.match(line, new RegExp(`^${stamp} `), line);
      assert.equal(line.replace(new RegExp(`^${stamp} `), ''), expected[i]);
    });

    const untags = ok(
      await d.docker(['events', '--since', unixTime(t0), '--until', unixTime(t1), '--filter', 'type=image', '--filter', 'event=untag', '--format', '{{json .}}']),
      'events --filter --format json',
    );
    const messages = untags.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      messages.map((m) => [m.status, m.id, m.Type, m.Action, (m.Actor as { Attributes: Record<string, string> }).Attributes.name, m.scope]),
      [
        ['untag', id, 'image', 'untag', 'ev/one:1', 'local'],
        ['untag', id, 'image', 'untag', 'lading-single:v1', 'local'],
      ],
    );
    const byImage = ok(await d.docker(['events', '--since', unixTime(t0), '--until', unixTime(t1), '--filter', 'image=ev/one']), 'events image=');
    assert.equal(byImage.stdout.trim().split('\n').length, 2, byImage.stdout);
    const byLabel = ok(await d.docker(['events', '--since', unixTime(t0), '--until', unixTime(t1), '--filter', 'label=com.example.platform=linux/amd64']), 'events label=');
    assert.equal(byLabel.stdout.trim().split('\n').length, 1, byLabel.stdout);
  });

  it('docker events streams live until --until, with nothing sent before the first event', async () => {
    const start = Date.now();
    const streaming = d.docker(['events', '--filter', 'event=tag', '--until', unixTime(start + 5000)], { timeoutMs: 20_000 });
    // Raw: headers at once, no body until an event.
    const raw = await new Promise<{ status: number; firstChunk: Promise<string>; close: () => void }>((resolve, reject) => {
      const req = http.request({ socketPath: d.socket, path: '/v1.51/events?filters=%7B%22event%22%3A%5B%22tag%22%5D%7D', headers: { Host: 'docker' } }, (res) => {
        const firstChunk = new Promise<string>((r) => res.once('data', (c: Buffer) => r(c.toString())));
        resolve({ status: res.statusCode ?? 0, firstChunk, close: () => req.destroy() });
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(raw.status, 200);
    const nothing = await Promise.race([raw.firstChunk.then(() => 'data'), sleep(300).then(() => 'quiet')]);
    assert.equal(nothing, 'quiet');
    await sleep(700);
    ok(await d.docker(['load', '-i', files.single]), 'load');
    ok(await d.docker(['tag', 'lading-single:v1', 'live/one:1']), 'tag');
    const line = JSON.parse(await raw.firstChunk) as Record<string, unknown>;
    assert.equal(line.Action, 'tag');
    assert.equal((line.Actor as { Attributes: Record<string, string> }).Attributes.name, 'live/one:1');
    raw.close();
    const res = ok(await streaming, 'docker events --until in the future');
    assert.ok(Date.now() - start >= 4500, 'the stream lasted until --until');
    assert.match(res.stdout, new RegExp(`image tag ${single.id} \\(.*name=live/one:1`));
    assert.doesNotMatch(res.stdout, /image load/);

    const bad = await d.request('/v1.51/events?since=yesterday');
    assert.equal(bad.status, 500, "Docker 28 answers a since it cannot parse with strconv's error");
    assert.deepEqual(bad.json(), { message: 'strconv.ParseInt: parsing "yesterday": invalid syntax' });
    const inverted = await d.request('/events?since=20&until=10');
    assert.equal(inverted.status, 400);
    assert.deepEqual(inverted.json(), { message: '`since` time (20) cannot be after `until` time (10)' });
    const badFilter = await d.request('/events?filters=nonsense');
    assert.equal(badFilter.status, 400);
    assert.deepEqual(badFilter.json(), { message: 'invalid filter' });
  });

  it('dockerode: tag, remove, prune, getEvents', async () => {
    const docker = new Docker({ socketPath: d.socket });
    const t0 = Date.now();
    await docker.getImage('lading-single:v1').tag({ repo: 'node/one', tag: '1' });
    assert.equal((await inspect('node/one:1'))?.Id, single.id);
    const removed = (await docker.getImage('node/one:1').remove()) as unknown as Array<Record<string, string>>;
    assert.deepEqual(removed, [{ Untagged: 'node/one:1' }]);
    await assert.rejects(docker.getImage(single.id).remove(), (err: { statusCode?: number; json?: { message?: string } }) => {
      assert.equal(err.statusCode, 409);
      assert.match(err.json?.message ?? '', /image is referenced in multiple repositories/);
      return true;
    });
    const forced = (await docker.getImage(single.id).remove({ force: true })) as unknown as Array<Record<string, string>>;
    assert.deepEqual(forced, [{ Untagged: 'lading-single:v1' }, { Untagged: 'live/one:1' }, { Deleted: single.id }]);
    await assert.rejects(docker.getImage(single.id).remove(), (err: { statusCode?: number }) => {
      assert.equal(err.statusCode, 404);
      return true;
    });
    const report = await docker.pruneImages();
    assert.deepEqual(report, { ImagesDeleted: null, SpaceReclaimed: 0 });
    await sleep(10);
    const stream = (await docker.getEvents({ since: t0 / 1000, until: Date.now() / 1000 })) as NodeJS.ReadableStream;
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
    const actions = Buffer.concat(chunks).toString().trim().split('\n').map((l) => (JSON.parse(l) as { Action: string }).Action);
    assert.ok(actions.includes('untag') && actions.includes('delete') && actions.includes('tag'), actions.join(','));
  });

  it('docker-py: tag, remove, prune, events', async () => {
    ok(await d.docker(['load', '-i', files.single]), 'load');
    const got = await d.pythonJson<{ tagged: boolean; removed: unknown; pruned: unknown; actions: string[]; missing: string }>(
      [
        'import time',
        't0 = time.time()',
        'tagged = client.images.get("lading-single:v1").tag("py/one", "1")',
        'removed = client.api.remove_image("py/one:1")',
        'pruned = client.images.prune(filters={"dangling": False})',
        'time.sleep(0.05)',
        'actions = [e["Action"] for e in client.events(since=t0, until=time.time(), decode=True)]',
        'try:',
        '    client.images.remove("py/none")',
        '    missing = ""',
        'except docker.errors.ImageNotFound as e:',
        '    missing = e.explanation',
        'print(json.dumps({"tagged": tagged, "removed": removed, "pruned": pruned, "actions": actions, "missing": missing}))',
      ].join('\n'),
    );
    assert.equal(got.tagged, true);
    assert.deepEqual(got.removed, [{ Untagged: 'py/one:1' }]);
    const pruned = got.pruned as { ImagesDeleted: Array<Record<string, string>>; SpaceReclaimed: number };
    assert.ok(pruned.ImagesDeleted.some((e) => e.Untagged === 'lading-single:v1'));
    assert.ok(pruned.ImagesDeleted.some((e) => e.Deleted === single.id));
    assert.ok(pruned.SpaceReclaimed > 0);
    assert.deepEqual(got.actions.slice(0, 2), ['tag', 'untag']);
    assert.equal(got.missing, 'No such image: py/none:latest');
    assertStoreMatches(await existing(allIds()));
  });

  it('200 concurrent tag, rmi, inspect and load requests: no 500, a consistent end state', async () => {
    for (const file of [files.single, files.multi, files.shared]) ok(await d.docker(['load', '-i', file]), `load ${file}`);
    const marker = `/_ping?concurrency-start=${Date.now()}`;
    await d.request(marker);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const archives = [readFileSync(files.single), readFileSync(files.shared), readFileSync(files.multi)];
    const send = (method: string, urlPath: string, body?: Buffer): Promise<{ status: number; text: string }> =>
      new Promise((resolve, reject) => {
        const req = http.request({ socketPath: d.socket, agent, method, path: urlPath, headers: { Host: 'docker' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      });
    const sources = ['lading-single:v1', 'lading-multi:v1', 'lc-a:1', single.id, multi.id, a.target.digest];
    const pool = Array.from({ length: 6 }, (_, i) => `race/n${i}:1`);
    let seed = 7;
    const pick = <T>(list: readonly T[]): T => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return list[seed % list.length]!;
    };
    const requests = Array.from({ length: 200 }, (_, i) => {
      const kind =
        i % 8 === 0
          ? 'load'
          : pick(['tag', 'tag', 'tag', 'tag', 'tag', 'tag', 'rmi', 'rmi', 'rmi', 'rmi-id', 'inspect', 'inspect', 'inspect', 'inspect-id', 'inspect-id']);
      const name = pick(pool);
      switch (kind) {
        case 'load':
          return send('POST', '/images/load?quiet=1', archives[(i / 8) % archives.length]);
        case 'tag': {
          const [repo, tag] = name.split(':');
          return send('POST', `/images/${pick(sources)}/tag?repo=${repo}&tag=${tag}`);
        }
        case 'rmi':
          return send('DELETE', `/images/${name}`);
        case 'rmi-id':
          return send('DELETE', `/images/${pick(sources)}${pick(['', '', '', '?force=1'])}`);
        case 'inspect':
          return send('GET', `/images/${name}/json`);
        default:
          return send('GET', `/images/${pick(sources)}/json?manifests=1`);
      }
    });
    const results = await Promise.all(requests);
    agent.destroy();
    const statuses = new Map<number, number>();
    for (const r of results) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    for (const r of results) assert.ok([200, 201, 404, 409].includes(r.status), `status ${r.status}: ${r.text}\n${d.logs()}`);
    assert.ok((statuses.get(201) ?? 0) > 0 && (statuses.get(200) ?? 0) > 0, JSON.stringify([...statuses]));
    const logs = d.logs(256 * 1024);
    assert.ok(logs.includes(marker), 'the daemon logs requests at debug level');
    assert.doesNotMatch(logs.slice(logs.lastIndexOf(marker)), /level=error/, 'the daemon logged no error');

    // Every name that exists answers for the image it points at, and that image lists it.
    for (const name of [...pool, 'lading-single:v1', 'lading-multi:v1', 'lc-a:1']) {
      const doc = await inspect(name);
      if (!doc) continue;
      assert.ok([single.id, multi.id, a.target.digest].includes(doc.Id as string), `${name} -> ${String(doc.Id)}`);
      assert.ok((doc.RepoTags as string[]).includes(name), `${name} is among the RepoTags of ${String(doc.Id)}`);
      const byId = (await inspect(doc.Id as string))!;
      assert.deepEqual(byId.RepoTags, doc.RepoTags);
    }
    assertStoreMatches(await existing(allIds()));
    assert.ok(existsSync(blobDir()));
  });
});
