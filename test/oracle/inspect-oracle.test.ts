// A live oracle: the same archives loaded into a real Docker Engine (Debian's docker.io 20.10, API 1.41) and
// into ladingd, then `GET /v1.41/images/{name}/json` compared field by field, and the docker CLI's output.
//
// Compared: the fields where 20.10 and Docker 28 (containerd image store) agree:
//   RepoTags, Architecture, Os, Variant (presence too: omitted when empty), Author, Comment, Created (at API
//   1.41 both print 0001-01-01T00:00:00Z for a config without `created`), RootFS.Type and RootFS.Layers,
//   and Config as parsed JSON: its set of keys and every value. The key order differs on purpose: 20.10 writes
//   Go struct order, Docker 28 (and Lading) sorts the keys, which is asserted for Lading.
// Where the raw bytes differ on purpose: 20.10 writes `<`, `>` and `&` literally; Docker 28 re-marshals the
//   inspect document with json.Marshal (api/server/router/image/inspect_response.go, MarshalJSON), which
//   escapes them as \u003c, \u003e, \u0026 although the outer encoder has SetEscapeHTML(false).
// Deliberately not compared:
//   - Id: 20.10 uses the config digest, 28 the target (manifest) digest.
//   - RepoDigests: 20.10 has none after a load, 28 lists `<repo>@<manifest digest>`.
//   - Size, VirtualSize: 20.10 counts unpacked layer bytes, 28 the manifest + config + compressed layer sizes.
//   - GraphDriver: 20.10 names vfs and its layer dirs, 28 the snapshotter with `Data: null`.
//   - Metadata: LastTagTime is each daemon's own load time.
//   - Descriptor: exists from API 1.48 only, and 20.10 has no such thing.
//   - Parent, DockerVersion: 20.10 fills them from its build parent chain and the config's docker_version,
//     28 always sends "" (equal here only because the fixtures lack both).
//   - Container, ContainerConfig: 20.10 always sends them, the containerd store never does.
//   - RootFS.BaseLayer: Windows only.
//   - Error texts: the docker CLI prints `Error response from daemon: no such image: x: No such image: x:latest`
//     for 20.10 and `Error response from daemon: No such image: x:latest` for 28; only the exit code and the
//     `[]` on stdout are the same.
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { Daemon, type HttpResponse } from '../support/daemon.js';
import { Dockerd, DockerdUnavailable } from '../support/dockerd.js';
import type { RunResult } from '../support/exec.js';
import {
  dockerArchive,
  multiPlatformImage,
  noCreatedImage,
  singlePlatformImage,
  type ImageFixture,
} from '../support/images.js';
import { richImage } from './rich-image.js';

type Doc = Record<string, unknown>;
interface Pair {
  docker: Dockerd;
  lading: Daemon;
}

const API = '/v1.41';
const PLAIN_FIELDS = ['RepoTags', 'Architecture', 'Os', 'Variant', 'Author', 'Comment', 'Created'] as const;

function show(doc: Doc, key: string): string {
  return key in doc ? JSON.stringify(doc[key]) : '(absent)';
}

function field(doc: Doc, key: string): unknown {
  return key in doc ? doc[key] : Symbol.for('absent');
}

/** Every compared field where Lading differs from dockerd, as `field: dockerd …, ladingd …`. */
function mismatches(want: Doc, got: Doc): string[] {
  const out: string[] = [];
  const differ = (what: string, w: unknown, g: unknown, ws: string, gs: string) => {
    if (!isDeepStrictEqual(w, g)) out.push(`${what}: dockerd 20.10 ${ws}, ladingd ${gs}`);
  };
  for (const key of PLAIN_FIELDS) differ(key, field(want, key), field(got, key), show(want, key), show(got, key));

  const rootfs = (doc: Doc) => {
    const r = (doc.RootFS ?? {}) as Doc;
    return { Type: r.Type, Layers: r.Layers };
  };
  differ('RootFS', rootfs(want), rootfs(got), JSON.stringify(rootfs(want)), JSON.stringify(rootfs(got)));

  const wc = want.Config as Doc | null | undefined;
  const gc = got.Config as Doc | null | undefined;
  if (!wc || !gc) {
    differ('Config', wc, gc, JSON.stringify(wc), JSON.stringify(gc));
    return out;
  }
  const wantKeys = Object.keys(wc).sort();
  const gotKeys = Object.keys(gc);
  for (const k of wantKeys) if (!(k in gc)) out.push(`Config.${k}: dockerd 20.10 ${show(wc, k)}, ladingd (absent)`);
  for (const k of gotKeys) if (!(k in wc)) out.push(`Config.${k}: dockerd 20.10 (absent), ladingd ${show(gc, k)}`);
  for (const k of wantKeys) if (k in gc) differ(`Config.${k}`, wc[k], gc[k], show(wc, k), show(gc, k));
  if (!isDeepStrictEqual(gotKeys, [...gotKeys].sort())) out.push(`Config keys not sorted: ladingd ${JSON.stringify(gotKeys)}`);
  return out;
}

function lines(res: RunResult): string[] {
  return res.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

describe('oracle: dockerd 20.10 vs ladingd, image load and inspect at API 1.41', { timeout: 300_000 }, () => {
  let docker: Dockerd | undefined;
  let lading: Daemon | undefined;
  let unavailable: DockerdUnavailable | undefined;
  let logsShown = false;

  before(async () => {
    try {
      docker = await Dockerd.start();
    } catch (err) {
      if (!(err instanceof DockerdUnavailable)) throw err;
      unavailable = err;
      return;
    }
    lading = await Daemon.start();
  });

  after(async () => {
    try {
      await lading?.stop();
    } finally {
      await docker?.stop();
    }
  });

  /** Both daemons, or a skip saying why dockerd cannot run here. */
  function daemons(t: TestContext): Pair | undefined {
    if (unavailable || !docker || !lading) {
      if (unavailable?.logs && !logsShown) {
        logsShown = true;
        for (const line of unavailable.logs.split('\n')) t.diagnostic(line);
      }
      t.skip(`dockerd unavailable: ${unavailable?.message ?? 'not started'}`);
      return undefined;
    }
    return { docker, lading };
  }

  /** `docker load -i FILE` on both; Lading must print what dockerd prints, and dockerd what we expect. */
  async function loadBoth(d: Pair, file: string, expected: string[]): Promise<void> {
    const [a, b] = await Promise.all([
      d.docker.docker(['load', '-i', file], { timeoutMs: 120_000 }),
      d.lading.docker(['load', '-i', file], { timeoutMs: 120_000 }),
    ]);
    assert.equal(a.code, 0, `dockerd: docker load -i ${file} exited ${a.code}: ${a.stderr}\n${d.docker.logs()}`);
    assert.deepEqual(lines(a), expected, `dockerd: docker load output`);
    assert.equal(b.code, 0, `ladingd: docker load -i ${file} exited ${b.code}: ${b.stderr}\n${d.lading.logs()}`);
    assert.deepEqual(lines(b), lines(a), `ladingd: docker load output vs dockerd 20.10 (stderr: ${b.stderr})`);
  }

  async function inspectBoth(d: Pair, name: string): Promise<[HttpResponse, HttpResponse]> {
    const url = `${API}/images/${name}/json`;
    const [a, b] = await Promise.all([d.docker.request(url), d.lading.request(url)]);
    assert.equal(a.status, 200, `dockerd: GET ${url} -> ${a.status} ${a.text}\n${d.docker.logs()}`);
    assert.equal(b.status, 200, `ladingd: GET ${url} -> ${b.status} ${b.text}\n${d.lading.logs()}`);
    return [a, b];
  }

  /** Inspects `name` on both and fails with every differing field at once. */
  async function compare(d: Pair, name: string): Promise<{ want: Doc; got: Doc }> {
    const [a, b] = await inspectBoth(d, name);
    const docs = { want: a.json<Doc>(), got: b.json<Doc>() };
    assert.deepEqual(mismatches(docs.want, docs.got), [], `${name}: ladingd differs from dockerd 20.10`);
    return docs;
  }

  async function loadAndCompare(t: TestContext, fx: ImageFixture, name: string, opts: Parameters<typeof dockerArchive>[1] = {}) {
    const d = daemons(t);
    if (!d) return undefined;
    const file = await dockerArchive(fx, { ...opts, name });
    await loadBoth(d, file, [`Loaded image: ${name}`]);
    return { d, ...(await compare(d, name)) };
  }

  it('single-platform image, then the same image under a second tag', async (t) => {
    const fx = await singlePlatformImage();
    const r = await loadAndCompare(t, fx, 'lading-single:v1');
    if (!r) return;
    assert.equal(r.want.Created, '2025-05-30T16:20:41.123Z', 'oracle: trailing zero nanoseconds dropped');
    await loadBoth(r.d, await dockerArchive(fx, { name: 'lading-single:again' }), ['Loaded image: lading-single:again']);
    const both = await compare(r.d, 'lading-single:v1');
    assert.deepEqual(both.want.RepoTags, ['lading-single:again', 'lading-single:v1'], 'oracle: both tags, sorted');
    await compare(r.d, 'lading-single:again');
  });

  it('image without created: Created is the zero time below API 1.44', async (t) => {
    const r = await loadAndCompare(t, await noCreatedImage(), 'lading-nocreated:v1');
    if (!r) return;
    assert.equal(r.want.Created, '0001-01-01T00:00:00Z', 'oracle');
  });

  it('multi-platform image, host platform', async (t) => {
    await loadAndCompare(t, await multiPlatformImage(), 'lading-multi:v1');
  });

  it('multi-platform image, linux/arm64/v8: Variant', async (t) => {
    const platform = { os: 'linux', architecture: 'arm64', variant: 'v8' };
    const r = await loadAndCompare(t, await multiPlatformImage(), 'lading-multi:arm64', { platform });
    if (!r) return;
    assert.equal(r.want.Variant, 'v8', 'oracle');
    assert.equal(r.want.Created, '2026-01-01T00:00:00.5Z', 'oracle');
  });

  it('three layers, entrypoint, healthcheck, volumes, ports, labels, empty-layer history', async (t) => {
    const r = await loadAndCompare(t, await richImage(), 'lading-rich:v1');
    if (!r) return;
    const config = r.want.Config as Doc;
    assert.deepEqual(config.Entrypoint, ['/bin/sh', '-c'], 'oracle');
    assert.ok(config.Healthcheck, 'oracle: Healthcheck kept');
    assert.equal(r.want.Comment, 'healthcheck: added by the oracle', 'oracle: Comment of the last history entry');
    assert.equal(((r.want.RootFS as Doc).Layers as unknown[]).length, 3, 'oracle: three layers');
    // The same image by its normalized name.
    await compare(r.d, 'docker.io/library/lading-rich:v1');
  });

  it('raw body: the same text, with <, > and & escaped as Docker 28 escapes them', async (t) => {
    const d = daemons(t);
    if (!d) return;
    const name = 'lading-rich:raw';
    await loadBoth(d, await dockerArchive(await richImage(), { name }), [`Loaded image: ${name}`]);
    const [a, b] = await inspectBoth(d, name);
    const escaped = /.{0,30}\\u00(3c|3e|26).{0,10}/;
    assert.ok(a.text.includes('"com.example.html":"<b>&</b>"'), `oracle: ${a.text}`);
    assert.equal(a.text.match(escaped), null, 'oracle');
    assert.ok(b.text.includes('"com.example.html":"\\u003cb\\u003e\\u0026\\u003c/b\\u003e"'), `ladingd: ${b.text}`);
    const unescaped = b.text.replace(/\\u003c/g, '<').replace(/\\u003e/g, '>').replace(/\\u0026/g, '&');
    assert.ok(unescaped.includes(`"Author":${JSON.stringify(JSON.parse(a.text).Author)}`), 'the same Author once unescaped');
  });

  it('missing image: docker image inspect exits 1 with [] on stdout, the API answers 404', async (t) => {
    const d = daemons(t);
    if (!d) return;
    const name = 'lading-oracle-missing';
    const [a, b] = await Promise.all([
      d.docker.docker(['image', 'inspect', name]),
      d.lading.docker(['image', 'inspect', name]),
    ]);
    assert.equal(a.code, 1, `dockerd: exit code (stderr: ${a.stderr})`);
    assert.equal(a.stdout.trim(), '[]', 'dockerd: stdout');
    assert.equal(b.code, a.code, `ladingd: exit code (stderr: ${b.stderr})`);
    assert.equal(b.stdout.trim(), a.stdout.trim(), 'ladingd: stdout');
    const url = `${API}/images/${name}/json`;
    const [ra, rb] = await Promise.all([d.docker.request(url), d.lading.request(url)]);
    assert.equal(ra.status, 404, `dockerd: GET ${url}`);
    assert.equal(rb.status, ra.status, `ladingd: GET ${url}: ${rb.text}`);
  });
});
