// Three replicas on one PostgreSQL and one registry blob tier (issue 14 items 3 and 7): an image
// loaded through one is inspected, saved and pushed through the others as a single daemon would;
// `docker events` on any replica shows every replica's events; concurrent removals on two replicas
// end with one removal, decided by the database.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCluster, type Cluster } from '../support/cluster.js';
import { Daemon } from '../support/daemon.js';
import { noCreatedImage, ociArchive, singlePlatformImage, type ImageFixture } from '../support/images.js';
import { tempDir } from '../support/paths.js';
import { skipWithoutPostgres } from '../support/postgres.js';

function ok(res: { code: number | null; stdout: string; stderr: string }, what: string, d: Daemon): string {
  assert.equal(res.code, 0, `${what}: ${res.stderr}\n${d.logs()}`);
  return res.stdout;
}

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

function inspectDoc(out: string): unknown {
  const doc = JSON.parse(out) as Array<Record<string, unknown>>;
  for (const image of doc) delete (image.Metadata as Record<string, unknown>).LastTagTime;
  return doc;
}

describe('three replicas on one PostgreSQL and one registry', { skip: skipWithoutPostgres() }, () => {
  let cluster: Cluster;
  let single: Daemon;
  let fx: ImageFixture;
  let archive: string;
  let a: Daemon, b: Daemon, c: Daemon;
  const started = Math.floor(Date.now() / 1000) - 1;

  before(async () => {
    [cluster, single, fx] = await Promise.all([startCluster(3), Daemon.start(), singlePlatformImage()]);
    [a, b, c] = cluster.replicas as [Daemon, Daemon, Daemon];
    archive = await ociArchive(fx);
  });
  after(async () => {
    await Promise.all([cluster?.stop(), single?.stop()]);
  });

  it('docker load through A; inspect, save and push through B and C answer as a single daemon', async () => {
    ok(await a.docker(['load', '-i', archive]), 'load on A', a);
    ok(await single.docker(['load', '-i', archive]), 'load on the single daemon', single);
    const expected = inspectDoc(ok(await single.docker(['image', 'inspect', fx.familiar]), 'inspect', single));
    for (const d of [b, c]) assert.deepEqual(inspectDoc(ok(await d.docker(['image', 'inspect', fx.familiar]), 'inspect', d)), expected);

    const dir = await tempDir('cluster-save-');
    const saved = async (d: Daemon, name: string): Promise<string> => {
      const file = path.join(dir, name);
      ok(await d.docker(['save', '-o', file, fx.familiar]), `save ${name}`, d);
      return sha256(file);
    };
    const reference = await saved(single, 'single.tar');
    assert.equal(await saved(b, 'b.tar'), reference, 'docker save through B: the same bytes');
    assert.equal(await saved(c, 'c.tar'), reference, 'docker save through C: the same bytes');

    const ref = cluster.registry.ref('pushed/from-c:v1');
    ok(await c.docker(['tag', fx.familiar, ref]), 'tag on C', c);
    ok(await c.docker(['push', ref]), 'push from C', c);
    assert.equal(await cluster.registry.inspectDigest('pushed/from-c:v1'), fx.id);
  });

  it('docker events on C shows the load through A, in the order the replicas made them', async () => {
    ok(await b.docker(['tag', fx.familiar, 'cluster-events:b']), 'tag on B', b);
    const until = Math.ceil(Date.now() / 1000) + 1;
    const lines = ok(await c.docker(['events', '--since', String(started), '--until', String(until), '--format', '{{json .}}']), 'events on C', c)
      .trim().split('\n').map((l) => JSON.parse(l) as { Action: string; Actor: { ID: string; Attributes: Record<string, string> }; timeNano: number });
    const actions = lines.map((e) => `${e.Action} ${e.Actor.Attributes.name ?? ''}`);
    const load = actions.indexOf(`load ${fx.id}`);
    const tag = actions.indexOf('tag cluster-events:b');
    assert.ok(load >= 0, `A's load in C's events:\n${actions.join('\n')}`);
    assert.ok(tag > load, `B's tag after A's load:\n${actions.join('\n')}`);
    const times = lines.map((e) => e.timeNano);
    assert.deepEqual(times, [...times].sort((x, y) => x - y), 'in time order');
  });

  it('a tag and a removal raced on two replicas end as Docker could: no lost or doubled record', async () => {
    for (let round = 0; round < 5; round++) {
      const name = `race:${round}`;
      ok(await a.docker(['tag', fx.familiar, name]), 'tag', a);
      const [ra, rb] = await Promise.all([a.docker(['rmi', name]), b.docker(['rmi', name])]);
      const wins = [ra, rb].filter((r) => r.code === 0);
      assert.equal(wins.length, 1, `one removal of ${name} wins:\nA: ${ra.stdout}${ra.stderr}\nB: ${rb.stdout}${rb.stderr}`);
      const loser = [ra, rb].find((r) => r.code !== 0)!;
      assert.match(loser.stderr, /No such image/);
      for (const d of [a, b, c]) assert.notEqual((await d.docker(['image', 'inspect', name])).code, 0, `${name} gone everywhere`);
    }
  });

  it('one name tagged onto two images at once on two replicas: one record, the same on every replica', async () => {
    const second = await noCreatedImage();
    ok(await a.docker(['load', '-i', await ociArchive(second)]), 'load the second image on A', a);
    for (let round = 0; round < 5; round++) {
      const name = `tag-race:${round}`;
      const [ra, rb] = await Promise.all([a.docker(['tag', fx.familiar, name]), b.docker(['tag', second.familiar, name])]);
      ok(ra, 'tag on A', a);
      ok(rb, 'tag on B', b);
      const ids = await Promise.all([a, b, c].map(async (d) => ok(await d.docker(['image', 'inspect', '--format', '{{.Id}}', name]), 'inspect', d).trim()));
      assert.ok([fx.id, second.id].includes(ids[0]!), `${name} names one of the two: ${ids[0]}`);
      assert.deepEqual(new Set(ids).size, 1, `every replica sees the same: ${ids.join(' ')}`);
      const rows = ok(await c.docker(['images', '--filter', `reference=${name}`, '--format', '{{.ID}}']), 'images', c).trim().split('\n');
      assert.equal(rows.length, 1, `one record of ${name}: ${rows.join(' ')}`);
      // The image that lost the race keeps its own name.
      for (const image of [fx, second]) ok(await c.docker(['image', 'inspect', image.familiar]), `${image.familiar} still there`, c);
    }
  });
});
