// `docker images` and `docker system df` against ladingd: the real docker CLI, dockerode, docker-py
// and raw HTTP at several API versions, every summary checked against the v1.51 spec.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { Daemon } from '../support/daemon.js';
import type { RunResult } from '../support/exec.js';
import { apiBelow } from '../support/expect.js';
import { hex, multiPlatformImage, ociArchive, singlePlatformImage, type ImageFixture } from '../support/images.js';
import { humanSize, listFixture, type ListFixture, type ListImage } from '../support/list-images.js';
import { definitionValidator, schemaErrors, specMissing } from '../support/schema.js';

const SPEC = 'docker-engine-api-v1.51.yaml';
const VERSIONS = ['1.24', '1.30', '1.40', '1.41', '1.42', '1.43', '1.44', '1.47', '1.48', '1.50', '1.51'];
const INDEX = 'application/vnd.oci.image.index.v1+json';

type Summary = Record<string, unknown> & { Id: string; RepoTags: string[] | null; Size: number; SharedSize: number };

/** `docker images` table rows: cells split on the tabwriter's padding (3 spaces or more). */
function rows(stdout: string): string[][] {
  return stdout
    .trimEnd()
    .split('\n')
    .map((line) => line.trimEnd().split(/\s{3,}/));
}

const shortId = (digest: string): string => hex(digest).slice(0, 12);

describe('image list and disk usage', { timeout: 600_000 }, () => {
  let d: Daemon;
  let fx: ListFixture;
  let multi: ImageFixture;
  let img: ListFixture['images'];
  /** Every summary this file sees, for the schema check at the end. */
  const seen: Array<{ where: string; doc: unknown; nullAt: string[] }> = [];

  before(async () => {
    [fx, multi] = await Promise.all([listFixture(), multiPlatformImage()]);
    img = fx.images;
    d = await Daemon.start();
    for (const file of [fx.file, await ociArchive(multi)]) ok(await d.docker(['load', '-i', file], { timeoutMs: 120_000 }), `docker load ${file}`);
  });
  after(async () => {
    await d?.stop();
  });

  function ok(res: RunResult, what: string): RunResult {
    assert.equal(res.code, 0, `${what} exited ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}\n${d?.logs()}`);
    return res;
  }

  async function docker(...args: string[]): Promise<string> {
    return ok(await d.docker(args), `docker ${args.join(' ')}`).stdout;
  }

  /** GET /images/json: 200, JSON and a newline; every summary kept for the schema check. */
  async function list(version?: string, query = ''): Promise<Summary[]> {
    const path = `${version ? `/v${version}` : ''}/images/json${query ? `?${query}` : ''}`;
    const res = await d.request(path);
    assert.equal(res.status, 200, `GET ${path}: ${res.text}`);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.ok(res.text.endsWith('\n'), `GET ${path}: a newline ends the body`);
    const docs = res.json<Summary[]>();
    for (const doc of docs) seen.push({ where: path, doc, nullAt: ['/Labels'] });
    return docs;
  }

  const filters = (f: Record<string, string[]>): string => `filters=${encodeURIComponent(JSON.stringify(f))}`;
  const byId = (docs: Summary[], image: ListImage | ImageFixture): Summary => {
    const id = 'manifest' in image ? image.manifest.digest : image.id;
    const doc = docs.find((s) => s.Id === id);
    assert.ok(doc, `${id} listed`);
    return doc;
  };

  it('GET /images/json: one summary per image, newest first, Docker 28’s fields and values', async () => {
    const docs = await list();
    assert.deepEqual(
      docs.map((s) => s.Id),
      [multi.id, img.b.manifest.digest, img.a.manifest.digest, img.c.manifest.digest, img.untagged.manifest.digest, img.empty.manifest.digest],
    );
    const a = byId(docs, img.a);
    assert.deepEqual(Object.keys(a), ['Containers', 'Created', 'Id', 'Labels', 'ParentId', 'Descriptor', 'RepoDigests', 'RepoTags', 'SharedSize', 'Size']);
    assert.deepEqual(a, {
      Containers: 0,
      Created: img.a.created,
      Id: img.a.manifest.digest,
      Labels: { 'com.example.html': '<b>&</b>', 'com.example.tier': 'a' },
      ParentId: '',
      Descriptor: { ...img.a.manifest, annotations: { 'io.containerd.image.name': 'docker.io/library/lading-list-a:v1' } },
      RepoDigests: [`lading-list-a@${img.a.manifest.digest}`],
      RepoTags: ['lading-list-a:v1'],
      SharedSize: -1,
      Size: img.a.size,
    });
    // Several names: all tags in name order, but only the last name's repository as digest (Docker 28).
    const b = byId(docs, img.b);
    assert.deepEqual(b.RepoTags, ['lading-list-alias:v1', 'lading-list-b:latest', 'lading-list-b:v1']);
    assert.deepEqual(b.RepoDigests, [`lading-list-b@${img.b.manifest.digest}`]);
    assert.equal(b.Created, img.b.created);
    // Labels: null without the key, {} when empty; Created 0 without created.
    assert.equal(byId(docs, img.c).Labels, null);
    assert.deepEqual(byId(docs, img.empty).Labels, {});
    assert.equal(byId(docs, img.empty).Created, 0);
    const untagged = byId(docs, img.untagged);
    assert.deepEqual([untagged.RepoTags, untagged.RepoDigests], [[], []]);
    // The raw body keeps <, > and & as they are.
    assert.match((await d.request('/images/json')).text, /"com\.example\.html":"<b>&<\/b>"/);
  });

  it('Size: every manifest’s content and unpacked bytes; Descriptor as inspect has it', async () => {
    const docs = await list();
    for (const image of Object.values(img)) assert.equal(byId(docs, image).Size, image.size, image.names.join());
    const inspect = (await d.request(`/images/${multi.familiar}/json?manifests=1`)).json<Record<string, unknown>>();
    const manifests = inspect.Manifests as Array<{ Size: { Total: number } }>;
    const m = byId(docs, multi);
    assert.equal(m.Size, manifests.reduce((n, x) => n + x.Size.Total, 0));
    assert.deepEqual(m.Descriptor, inspect.Descriptor);
    assert.deepEqual(m.Labels, (inspect.Config as Record<string, unknown>).Labels);
    assert.equal(m.Created, Date.parse('2026-01-01T00:00:00Z') / 1000);
  });

  it('shared-size=1: the base layer two images share, at its unpacked size', async () => {
    const docs = await list(undefined, 'shared-size=1');
    const shared = new Map(docs.map((s) => [s.Id, s.SharedSize]));
    assert.equal(shared.get(img.a.manifest.digest), fx.base.unpacked);
    assert.equal(shared.get(img.b.manifest.digest), fx.base.unpacked);
    for (const image of [img.c, img.empty, img.untagged]) assert.equal(shared.get(image.manifest.digest), 0);
    assert.equal(shared.get(multi.id), 0);
    // Shared among the images listed: filtered down to a alone, nothing is.
    const alone = await list(undefined, `shared-size=1&${filters({ reference: ['lading-list-a'] })}`);
    assert.deepEqual(alone.map((s) => s.SharedSize), [0]);
  });

  it('manifests=1: inspect’s Manifests entries', async () => {
    const docs = await list(undefined, 'manifests=1');
    const m = byId(docs, multi);
    const inspect = (await d.request(`/images/${multi.familiar}/json?manifests=1`)).json<Record<string, unknown>>();
    assert.deepEqual(m.Manifests, inspect.Manifests);
    assert.deepEqual(Object.keys(m).slice(5, 7), ['Descriptor', 'Manifests']);
    assert.equal((byId(docs, img.a).Manifests as unknown[]).length, 1);
  });

  it('docker images: columns, one row per tag, newest first', async () => {
    const table = rows(await docker('images'));
    assert.deepEqual(table[0], ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']);
    const body = table.slice(1).map((r) => [r[0], r[1], r[2], r[4]].map(String));
    const row = (repo: string, tag: string, image: ListImage): string[] => [repo, tag, shortId(image.manifest.digest), humanSize(image.size, 3)];
    const multiSize = byId(await list(), multi).Size;
    // The CLI walks one image's repositories in map order: rows of b come in any order.
    const bRows = (r: string[][]) => r.slice(1, 4).sort((x, y) => x.join().localeCompare(y.join()));
    assert.deepEqual(body[0], ['lading-multi', 'v1', shortId(multi.id), humanSize(multiSize, 3)]);
    assert.deepEqual(bRows(body), [row('lading-list-alias', 'v1', img.b), row('lading-list-b', 'latest', img.b), row('lading-list-b', 'v1', img.b)]);
    assert.deepEqual(body.slice(4), [
      row('lading-list-a', 'v1', img.a),
      row('lading-list-c', 'v1', img.c),
      row('<none>', '<none>', img.untagged),
      row('lading-list-empty', 'v1', img.empty),
    ]);
    assert.match(table[1]?.[3] ?? '', / ago$/);
    assert.match(table.at(-1)?.[3] ?? '', /^\d+ years ago$/, 'no created: the Unix epoch');
  });

  it('docker images --digests: a DIGEST column, <none> for repositories without one', async () => {
    const table = rows(await docker('images', '--digests'));
    assert.deepEqual(table[0], ['REPOSITORY', 'TAG', 'DIGEST', 'IMAGE ID', 'CREATED', 'SIZE']);
    const digests = table.slice(1).map(([repo, tag, digest]) => `${repo}:${tag} ${digest}`).sort();
    assert.deepEqual(digests, [
      `<none>:<none> <none>`,
      `lading-list-a:v1 ${img.a.manifest.digest}`,
      `lading-list-alias:v1 <none>`,
      `lading-list-b:latest ${img.b.manifest.digest}`,
      `lading-list-b:v1 ${img.b.manifest.digest}`,
      `lading-list-c:v1 ${img.c.manifest.digest}`,
      `lading-list-empty:v1 ${img.empty.manifest.digest}`,
      `lading-multi:v1 ${multi.id}`,
    ]);
  });

  it('docker images -q: a short ID per row; --no-trunc: full IDs', async () => {
    const ids = (await docker('images', '-q')).trim().split('\n');
    assert.deepEqual(ids, [
      shortId(multi.id),
      ...Array(3).fill(shortId(img.b.manifest.digest)),
      shortId(img.a.manifest.digest),
      shortId(img.c.manifest.digest),
      shortId(img.untagged.manifest.digest),
      shortId(img.empty.manifest.digest),
    ]);
    const full = (await docker('images', '-q', '--no-trunc')).trim().split('\n');
    assert.equal(full[0], multi.id);
    const table = rows(await docker('images', '--no-trunc', 'lading-list-a'));
    assert.deepEqual(table[1]?.slice(0, 3), ['lading-list-a', 'v1', img.a.manifest.digest]);
  });

  it('docker images --filter reference=… and a positional name: only the matching tags', async () => {
    const names = async (...args: string[]): Promise<string[]> =>
      (await docker('images', '--format', '{{.Repository}}:{{.Tag}}', ...args)).trim().split('\n').filter(Boolean).sort();
    assert.deepEqual(await names('--filter', 'reference=lading-list-b'), ['lading-list-b:latest', 'lading-list-b:v1']);
    assert.deepEqual(await names('lading-list-b:v1'), ['lading-list-b:v1']);
    assert.deepEqual(await names('--filter', 'reference=lading-list-*:v1'), [
      'lading-list-a:v1', 'lading-list-alias:v1', 'lading-list-b:v1', 'lading-list-c:v1', 'lading-list-empty:v1',
    ]);
    assert.deepEqual(await names('--filter', 'reference=lading-list-a', '--filter', 'reference=lading-multi'), ['lading-list-a:v1', 'lading-multi:v1']);
    assert.deepEqual(await names('nosuch'), []);
  });

  it('docker images --filter dangling, label, before, since', async () => {
    const ids = async (...args: string[]): Promise<string[]> => (await docker('images', '-q', '--no-trunc', ...args)).trim().split('\n').filter(Boolean);
    assert.deepEqual(await ids('--filter', 'dangling=true'), [img.untagged.manifest.digest]);
    assert.equal((await ids('--filter', 'dangling=false')).includes(img.untagged.manifest.digest), false);
    assert.deepEqual(await ids('--filter', 'label=com.example.tier=a'), [img.a.manifest.digest]);
    assert.deepEqual(await ids('--filter', 'label=com.example.tier!=a'), [...Array(3).fill(img.b.manifest.digest), img.untagged.manifest.digest]);
    assert.deepEqual(await ids('--filter', 'label=com.example.platform'), [multi.id]);
    assert.deepEqual(await ids('--filter', 'before=lading-list-a:v1'), [img.c.manifest.digest, img.untagged.manifest.digest]);
    assert.deepEqual(await ids('--filter', 'since=lading-list-a:v1', '--filter', 'dangling=false'), [multi.id, ...Array(3).fill(img.b.manifest.digest)]);
  });

  it('bad filters: exit 1 and Docker’s message', async () => {
    const cases: Array<[string, string]> = [
      ['foo=bar', "invalid filter 'foo'"],
      ['dangling=maybe', "invalid filter 'dangling=[maybe]'"],
      ['before=nosuch', 'No such image: nosuch:latest'],
      ['until=soon', 'failed to parse value as time or duration: "soon"'],
      ['until=2024-13-01', 'parsing time "2024-13-01": month out of range'],
    ];
    for (const [filter, message] of cases) {
      const res = await d.docker(['images', '--filter', filter]);
      assert.equal(res.code, 1, filter);
      assert.equal(res.stdout, '');
      assert.equal(res.stderr, `Error response from daemon: ${message}\n`, filter);
    }
    const status = async (query: string): Promise<[number, string]> => {
      const res = await d.request(`/images/json?${query}`);
      return [res.status, res.text];
    };
    assert.deepEqual(await status('filters=notjson'), [400, '{"message":"invalid filter"}\n']);
    assert.deepEqual(await status(filters({ foo: ['x'] })), [400, `{"message":"invalid filter 'foo'"}\n`]);
    assert.deepEqual(await status(filters({ until: ['soon'] })), [500, '{"message":"failed to parse value as time or duration: \\"soon\\""}\n']);
    assert.deepEqual(await status(filters({ before: ['nosuch'] })), [404, '{"message":"No such image: nosuch:latest"}\n']);
  });

  it('docker image ls --tree: platforms under each image (API 1.47 manifests=1)', async () => {
    const out = await docker('image', 'ls', '--tree');
    assert.match(out, /^WARNING: This is an experimental feature/);
    assert.match(out, new RegExp(`^lading-multi:v1\\s+${shortId(multi.id)}\\s`, 'm'));
    assert.match(out, new RegExp(`^├─ linux/amd64\\s+${shortId(multi.images[0]?.manifest.digest ?? '')}\\s`, 'm'));
    assert.match(out, new RegExp(`^└─ linux/arm64/v8\\s+${shortId(multi.images[1]?.manifest.digest ?? '')}\\s`, 'm'));
    assert.match(out, /^lading-list-alias:v1\nlading-list-b:latest\nlading-list-b:v1\s/m);
    assert.doesNotMatch(out, /<none>|unknown/, 'untagged images and attestations left out');
  });

  it('docker system df: the images line, nothing else in use', async () => {
    const du = (await d.request('/system/df')).json<{ LayersSize: number; Images: Summary[] }>();
    const table = rows(await docker('system', 'df'));
    assert.deepEqual(table, [
      ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'],
      ['Images', '6', '0', humanSize(du.LayersSize), `${humanSize(du.LayersSize)} (100%)`],
      ['Containers', '0', '0', '0B', '0B'],
      ['Local Volumes', '0', '0', '0B', '0B'],
      ['Build Cache', '0', '0', '0B', '0B'],
    ]);
  });

  it('GET /system/df: LayersSize counts the shared base layer once; summaries with shared sizes', async () => {
    // Docker 28.5's document (1.52's is in api29-system.test.ts).
    const res = await d.request('/v1.51/system/df');
    assert.equal(res.status, 200);
    const du = res.json<{ LayersSize: number; Images: Summary[]; Containers: unknown; Volumes: unknown; BuildCache: unknown }>();
    assert.deepEqual(Object.keys(du), ['LayersSize', 'Images', 'Containers', 'Volumes', 'BuildCache']);
    assert.deepEqual([du.Containers, du.Volumes, du.BuildCache], [[], [], []]);
    for (const doc of du.Images) seen.push({ where: 'GET /system/df', doc, nullAt: ['/Labels', '/RepoTags', '/RepoDigests'] });
    // Every image's blobs and unpacked layers, plus the multi-platform index, minus the shared base counted twice.
    const indexes = du.Images.map((s) => s.Descriptor as { mediaType: string; size: number }).filter((desc) => desc.mediaType === INDEX);
    const expected =
      du.Images.reduce((n, s) => n + s.Size, 0) + indexes.reduce((n, desc) => n + desc.size, 0) - fx.base.blob.size - fx.base.unpacked;
    assert.equal(du.LayersSize, expected);
    const untagged = byId(du.Images, img.untagged);
    assert.deepEqual([untagged.RepoTags, untagged.RepoDigests, untagged.Containers], [null, null, 0], 'summaries as the service made them');
    assert.deepEqual(
      du.Images.map((s) => s.SharedSize),
      [0, fx.base.unpacked, fx.base.unpacked, 0, 0, 0],
    );
    const onlyImages = (await d.request('/v1.42/system/df?type=image')).json<Record<string, unknown>>();
    assert.deepEqual([onlyImages.Containers, onlyImages.Volumes, onlyImages.BuildCache], [null, null, null]);
    assert.equal(onlyImages.LayersSize, du.LayersSize);
    const containers = (await d.request('/v1.51/system/df?type=container&type=volume')).text;
    assert.equal(containers, '{"LayersSize":0,"Images":null,"Containers":[],"Volumes":[],"BuildCache":null}\n');
    // Below 1.42 `type` is not read; from 1.42 an unknown type is refused.
    assert.equal((await d.request('/v1.41/system/df?type=nonsense')).status, 200);
    const bad = await d.request('/system/df?type=nonsense');
    assert.deepEqual([bad.status, bad.text], [400, '{"message":"unknown object type: nonsense"}\n']);
    const old = (await d.request('/v1.43/system/df')).json<{ Images: Summary[] }>();
    assert.equal(byId(old.Images, img.a).VirtualSize, img.a.size);
  });

  it('docker system df -v: shared and unique sizes per image', async () => {
    const out = await docker('system', 'df', '-v');
    const start = out.indexOf('Images space usage:');
    const end = out.indexOf('Containers space usage:');
    const table = rows(out.slice(start, end).split('\n').slice(2).join('\n'));
    assert.deepEqual(table[0], ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE', 'CONTAINERS']);
    const line = (repo: string, tag: string, image: ListImage, shared: number): string[] => [
      repo, tag, shortId(image.manifest.digest), humanSize(image.size, 3), humanSize(shared), humanSize(image.size - shared), '0',
    ];
    const body = table.slice(1).map((r) => [...r.slice(0, 3), ...r.slice(4)]);
    assert.deepEqual(body.slice(1), [
      line('lading-list-alias', 'v1', img.b, fx.base.unpacked),
      line('lading-list-a', 'v1', img.a, fx.base.unpacked),
      line('lading-list-c', 'v1', img.c, 0),
      line('<none>', '<none>', img.untagged, 0),
      line('lading-list-empty', 'v1', img.empty, 0),
    ]);
    assert.deepEqual(body[0]?.slice(0, 3), ['lading-multi', 'v1', shortId(multi.id)]);
    assert.match(out, /^Build cache usage: 0B$/m);
  });

  it('dockerode: listImages() with and without filters, df()', async () => {
    const docker = new Docker({ socketPath: d.socket, timeout: 60_000 });
    const all = (await docker.listImages()) as unknown as Summary[];
    assert.deepEqual(all, await list());
    const b = (await docker.listImages({ filters: { reference: ['lading-list-b'] } })) as unknown as Summary[];
    assert.deepEqual(b.map((s) => s.RepoTags), [['lading-list-b:latest', 'lading-list-b:v1']]);
    const dangling = (await docker.listImages({ all: true, filters: { dangling: { true: true } } } as never)) as unknown as Summary[];
    assert.deepEqual(dangling.map((s) => s.Id), [img.untagged.manifest.digest]);
    const du = (await docker.df()) as { LayersSize: number; Images: Summary[]; Containers: unknown[] };
    assert.equal(du.Images.length, 6);
    assert.ok(du.LayersSize > 0);
    assert.deepEqual(du.Containers, []);
  });

  it('docker-py: client.images.list() (plain, by name, by filters), api.images(quiet=True), df()', async () => {
    const got = await d.pythonJson<{
      all: Array<[string, string[]]>;
      named: Array<[string, string[]]>;
      dangling: string[];
      label: string[];
      quiet: string[];
      df: { images: number; layers: number; containers: unknown[] };
    }>(
      'pairs = lambda images: [[i.id, i.tags] for i in images]\n' +
        'df = client.df()\n' +
        'print(json.dumps({\n' +
        '  "all": pairs(client.images.list()),\n' +
        '  "named": pairs(client.images.list(name="lading-list-b")),\n' +
        '  "dangling": [i.id for i in client.images.list(filters={"dangling": True})],\n' +
        '  "label": [i.id for i in client.images.list(filters={"label": "com.example.tier=a"})],\n' +
        '  "quiet": client.api.images(quiet=True),\n' +
        '  "df": {"images": len(df["Images"]), "layers": df["LayersSize"], "containers": df["Containers"]},\n' +
        '}))',
    );
    assert.deepEqual(got.all, [
      [multi.id, ['lading-multi:v1']],
      [img.b.manifest.digest, ['lading-list-alias:v1', 'lading-list-b:latest', 'lading-list-b:v1']],
      [img.a.manifest.digest, ['lading-list-a:v1']],
      [img.c.manifest.digest, ['lading-list-c:v1']],
      [img.untagged.manifest.digest, []],
      [img.empty.manifest.digest, ['lading-list-empty:v1']],
    ]);
    // images.list() inspects each image it lists, so Image.tags has every name.
    assert.deepEqual(got.named, [[img.b.manifest.digest, ['lading-list-alias:v1', 'lading-list-b:latest', 'lading-list-b:v1']]]);
    assert.deepEqual(got.dangling, [img.untagged.manifest.digest]);
    assert.deepEqual(got.label, [img.a.manifest.digest]);
    assert.deepEqual(got.quiet, got.all.map(([id]) => id));
    assert.equal(got.df.images, 6);
    assert.deepEqual(got.df.containers, []);
  });

  it('each API version’s shape: Containers, VirtualSize, Descriptor, Manifests, <none>, shared-size, filter', async () => {
    for (const version of VERSIONS) {
      const below = (v: string): boolean => apiBelow(version, v);
      const docs = await list(version, 'manifests=1&shared-size=1');
      const a = byId(docs, img.a);
      assert.deepEqual(Object.keys(a), [
        'Containers', 'Created', 'Id', 'Labels', 'ParentId',
        ...(below('1.48') ? [] : ['Descriptor']),
        ...(below('1.47') ? [] : ['Manifests']),
        'RepoDigests', 'RepoTags', 'SharedSize', 'Size',
        ...(below('1.44') ? ['VirtualSize'] : []),
      ], version);
      assert.equal(a.Containers, below('1.51') ? -1 : 0, version);
      assert.equal(a.SharedSize, below('1.42') ? -1 : fx.base.unpacked, version);
      if (below('1.44')) assert.equal(a.VirtualSize, img.a.size);
      const untagged = byId(docs, img.untagged);
      assert.deepEqual(
        [untagged.RepoTags, untagged.RepoDigests],
        below('1.43') ? [['<none>:<none>'], ['<none>@<none>']] : [[], []],
        version,
      );
      // The `filter` parameter: a reference pattern below 1.41, ignored from 1.41.
      const filtered = await list(version, 'filter=lading-list-b');
      assert.deepEqual(
        filtered.map((s) => s.RepoTags),
        below('1.41') ? [['lading-list-b:latest', 'lading-list-b:v1']] : docs.map((s) => s.RepoTags),
        version,
      );
    }
  });

  it('a load shows in the next list', async () => {
    const single = await singlePlatformImage();
    const before = await list();
    ok(await d.docker(['load', '-i', await ociArchive(single)], { timeoutMs: 120_000 }), 'docker load');
    const after = await list();
    assert.equal(after.length, before.length + 1);
    assert.deepEqual(byId(after, single).RepoTags, [single.familiar]);
    const ids = (await docker('images', '-q', '--no-trunc', single.familiar)).trim();
    assert.equal(ids, single.id);
  });

  it('every summary seen validates against ImageSummary of the v1.51 spec', (t) => {
    const noSpec = specMissing(SPEC);
    if (noSpec !== undefined) return t.skip(noSpec);
    const validate = definitionValidator(SPEC, 'ImageSummary');
    assert.ok(seen.length > 100, `collected ${seen.length} summaries`);
    const failures = seen.flatMap(({ where, doc, nullAt }) => schemaErrors(validate, doc, nullAt).map((e) => `${where}: ${e}`));
    assert.deepEqual(failures, []);
  });
});
