// What the docker CLI and clients see of the endpoints of a container runtime, which Lading does not have:
// `docker run` says so instead of pulling, lists and prunes are empty, `docker system prune` prunes images.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { parse } from 'yaml';
import { ok } from '../support/cli-result.js';
import { Daemon } from '../support/daemon.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { multiPlatformImage, ociArchive, singlePlatformImage, type ImageFixture } from '../support/images.js';
import { sharedReference } from '../support/paths.js';
import { specMissing } from '../support/schema.js';
import { Registry } from '../support/registry.js';

const NO_RUNTIME = 'Lading stores images and runs no containers';
// `docker run` maps texts with these to exit codes 127 and 126 (cli/command/container/run.go).
const EXIT_CODE_WORDS = /no such file or directory|executable file not found|permission denied/i;

/** Every method and path of the Engine API spec, `{x}` filled with a name. */
function specEndpoints(): Array<{ method: string; path: string }> {
  const spec = parse(readFileSync(sharedReference('docker-engine-api-v1.51.yaml'), 'utf8')) as {
    paths: Record<string, Record<string, unknown>>;
  };
  return Object.entries(spec.paths).flatMap(([path, ops]) =>
    Object.keys(ops)
      .filter((m) => ['get', 'post', 'put', 'delete', 'head'].includes(m))
      .map((m) => ({ method: m.toUpperCase(), path: path.replace(/\{[a-z]+\}/g, 'nosuch') })),
  );
}

/** Endpoints Lading serves for images, or leaves as Docker's 404 (search). */
const IMAGE_ENDPOINTS = /^\/(images|auth|info|version|_ping|events|system|distribution)(\/|$)/;

describe('endpoints of a container runtime', { timeout: 300_000 }, () => {
  let d: Daemon;
  let reg: Registry;
  let proxy: FaultProxy;
  let single: ImageFixture;
  let multi: ImageFixture;

  before(async () => {
    [single, multi] = await Promise.all([singlePlatformImage(), multiPlatformImage()]);
    reg = await Registry.start();
    proxy = await FaultProxy.start({ upstream: reg });
    d = await Daemon.start();
    for (const fx of [single, multi]) ok(await d.docker(['load', '-i', await ociArchive(fx)], { timeoutMs: 120_000 }), 'docker load', d);
  });
  after(async () => {
    try {
      await d?.stop();
    } finally {
      await proxy?.stop();
      await reg?.stop();
    }
  });

  it('docker run and docker create print Lading\'s 501 message, exit 125 and 1, and pull nothing', async () => {
    // Named at the fault proxy's registry: a pull would show there.
    const ref = proxy.ref('lab/here:1');
    ok(await d.docker(['tag', single.ref, ref]), 'docker tag', d);

    const run = await d.docker(['run', '--rm', ref, 'true']);
    assert.equal(run.code, 125, `docker run: ${run.stdout}${run.stderr}`);
    assert.match(run.stderr, new RegExp(`Error response from daemon: ${NO_RUNTIME}: cannot create a container`));
    assert.doesNotMatch(run.stderr + run.stdout, /Unable to find image|Pulling/);
    assert.doesNotMatch(run.stderr, EXIT_CODE_WORDS);

    const create = await d.docker(['create', ref]);
    assert.equal(create.code, 1, `docker create: ${create.stdout}${create.stderr}`);
    assert.match(create.stderr, new RegExp(`Error response from daemon: ${NO_RUNTIME}: cannot create a container`));
    assert.doesNotMatch(create.stderr + create.stdout, /Unable to find image/);

    assert.deepEqual(proxy.requests, [], 'no request reached the registry');
  });

  it('every container, exec, volume, network, plugin, swarm and build endpoint of the spec is routed, none as "page not found"', { skip: specMissing('docker-engine-api-v1.51.yaml') ?? false }, async () => {
    const seen: string[] = [];
    for (const { method, path } of specEndpoints()) {
      if (IMAGE_ENDPOINTS.test(path)) continue;
      const res = await d.request(`/v1.51${path}`, { method });
      const what = `${method} ${path}: ${res.status} ${res.text}`;
      seen.push(`${method} ${path}`);
      const message = method === 'HEAD' ? '' : (res.json<{ message?: string }>().message ?? '');
      assert.doesNotMatch(message, EXIT_CODE_WORDS, what);
      if (res.status === 501) {
        assert.match(message, new RegExp(`^${NO_RUNTIME}: cannot [a-z]`), what);
        assert.equal(res.headers['content-type'], 'application/json', what);
      } else if (res.status === 404) {
        assert.ok(method === 'HEAD' || /^(No such (container|exec instance): nosuch|get nosuch: no such volume|network nosuch not found|plugin "nosuch" not found)$/.test(message), what);
      } else assert.equal(res.status, 200, what);
    }
    assert.equal(seen.length, 87, "the v1.51 spec's runtime endpoints, all checked");
  });

  it('the CLI\'s own container, volume, network and swarm commands print the 501; search and unknown paths stay 404', async () => {
    for (const [args, op] of [
      [['exec', 'c1', 'true'], null],
      [['start', 'c1'], 'start a container'],
      [['rm', 'c1'], 'remove a container'],
      [['volume', 'create', 'v1'], 'create a volume'],
      [['network', 'create', 'n1'], 'create a network'],
      [['swarm', 'init'], 'initialize a swarm'],
      [['commit', 'c1', 'x:1'], 'commit a container to an image'],
    ] as const) {
      const res = await d.docker(args);
      assert.notEqual(res.code, 0, `docker ${args.join(' ')}`);
      // `docker exec` inspects the container first: Docker's "No such container".
      assert.match(res.stderr, op ? new RegExp(`${NO_RUNTIME}: cannot ${op}`) : /No such container: c1/, `docker ${args.join(' ')}: ${res.stderr}`);
    }
    // Still 404 with Docker's text: search (not built) and unknown paths.
    for (const path of ['/v1.51/images/search?term=busybox', '/v1.51/nothing/here']) {
      const res = await d.request(path);
      assert.equal(res.status, 404, path);
      assert.deepEqual(res.json(), { message: 'page not found' });
    }
  });

  it('lists are empty in Docker\'s shapes; docker ps, volume ls, network ls and docker inspect of an image work', async () => {
    assert.deepEqual((await d.request('/v1.51/containers/json?all=1')).text, '[]\n');
    assert.deepEqual((await d.request('/v1.51/volumes')).text, '{"Volumes":[],"Warnings":null}\n');
    assert.deepEqual((await d.request('/v1.51/networks')).text, '[]\n');
    assert.equal(ok(await d.docker(['ps', '-a', '--format', '{{.ID}}']), 'docker ps -a', d).stdout, '');
    assert.equal(ok(await d.docker(['volume', 'ls', '-q']), 'docker volume ls', d).stdout, '');
    assert.equal(ok(await d.docker(['network', 'ls', '-q']), 'docker network ls', d).stdout, '');
    // Without --type the CLI asks for a container first and goes on to the image on a 404.
    const inspect = ok(await d.docker(['inspect', '--format', '{{.Id}}', single.ref]), 'docker inspect', d);
    assert.equal(inspect.stdout.trim(), single.id);

    const docker = new Docker({ socketPath: d.socket });
    assert.deepEqual(await docker.listContainers({ all: true }), []);
    assert.deepEqual(await docker.listVolumes(), { Volumes: [], Warnings: null });
    assert.deepEqual(await docker.listNetworks(), []);
    await assert.rejects(docker.createContainer({ Image: single.ref }), (err: { statusCode?: number; message: string }) => {
      assert.equal(err.statusCode, 501);
      assert.match(err.message, new RegExp(`${NO_RUNTIME}: cannot create a container`));
      return true;
    });
  });

  it('prunes answer Docker\'s empty reports; docker system prune removes dangling, -a every image', async () => {
    const prune = async (path: string): Promise<string> => {
      const res = await d.request(`/v1.51${path}`, { method: 'POST' });
      assert.equal(res.status, 200, `${path}: ${res.text}`);
      return res.text;
    };
    assert.equal(await prune('/containers/prune'), '{"ContainersDeleted":null,"SpaceReclaimed":0}\n');
    assert.equal(await prune('/networks/prune'), '{"NetworksDeleted":null}\n');
    assert.equal(await prune('/volumes/prune'), '{"VolumesDeleted":null,"SpaceReclaimed":0}\n');
    assert.equal(await prune('/build/prune'), '{"CachesDeleted":null,"SpaceReclaimed":0}\n');
    const bad = await d.request(`/v1.51/containers/prune?filters=${encodeURIComponent('{"dangling":{"true":true}}')}`, { method: 'POST' });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json(), { message: "invalid filter 'dangling'" });

    // The single-platform image's last name moves to the other image: it is left dangling.
    ok(await d.docker(['rmi', single.familiar]), 'docker rmi', d);
    ok(await d.docker(['tag', multi.familiar, proxy.ref('lab/here:1')]), 'docker tag', d);
    const images = async (): Promise<string[]> =>
      ok(await d.docker(['images', '-a', '--no-trunc', '--format', '{{.ID}}']), 'docker images', d).stdout.split('\n').filter(Boolean).filter((id, i, all) => all.indexOf(id) === i).sort();
    assert.deepEqual(await images(), [single.id, multi.id].sort());

    let res = ok(await d.docker(['system', 'prune', '-f']), 'docker system prune -f', d);
    assert.match(res.stdout, new RegExp(`Deleted Images:\nuntagged: ${single.id}\ndeleted: ${single.id}\n`));
    assert.match(res.stdout, /Total reclaimed space: [0-9.]+[kM]?B\n$/);
    assert.deepEqual(await images(), [multi.id]);

    res = ok(await d.docker(['system', 'prune', '-af', '--volumes']), 'docker system prune -af --volumes', d);
    assert.match(res.stdout, new RegExp(`untagged: ${multi.familiar}\n`));
    assert.match(res.stdout, new RegExp(`deleted: ${multi.id}`));
    assert.deepEqual(await images(), []);
  });
});
