// ladingd --metadata postgres://… (issue 14, items 1 and 5): a loaded image's records live in
// PostgreSQL and outlive the daemon; the database stopped, the docker CLI is told so (503), and the
// daemon serves again by itself once it is back.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import { Daemon } from '../support/daemon.js';
import { run } from '../support/exec.js';
import { repoRoot } from '../support/paths.js';
import { dockerArchive, singlePlatformImage, type ImageFixture } from '../support/images.js';
import { skipWithoutPostgres, startPostgres, type PostgresCluster } from '../support/postgres.js';
import { eventually } from '../support/eventually.js';

const skip = skipWithoutPostgres();

describe('ladingd with its metadata in PostgreSQL', { skip, timeout: 180_000 }, () => {
  let cluster: PostgresCluster;
  let url: string;
  let fx: ImageFixture;
  let archive: string;
  let d: Daemon | undefined;

  before(async () => {
    [cluster, fx] = await Promise.all([startPostgres(), singlePlatformImage()]);
    url = await cluster.createDatabase();
    archive = await dockerArchive(fx);
  });
  after(async () => {
    await d?.stop();
    await cluster?.remove();
  });

  it('keeps the records in the database, answers 503 while it is down, and recovers by itself', async () => {
    d = await Daemon.start({ extraArgs: ['--metadata', url] });
    const loaded = await d.docker(['load', '-i', archive]);
    assert.equal(loaded.code, 0, loaded.stderr + d.logs());
    const id = (await d.docker(['image', 'inspect', fx.familiar, '--format', '{{.Id}}'])).stdout.trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);

    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql<Array<{ name: string }>>`SELECT name FROM images ORDER BY name`;
      assert.deepEqual(rows.map((r) => r.name), [fx.ref]);
    } finally {
      await sql.end();
    }

    // The data root says where its metadata is, so that an offline `ladingd check` refuses it.
    const check = await run(process.execPath, [path.join(repoRoot, 'bin', 'ladingd.js'), 'check', '--data-root', d.dataRoot]);
    assert.equal(check.code, 2, check.stderr);
    assert.match(check.stderr, /its metadata is in postgres 127\.0\.0\.1:\d+\/lading_\d+_\d+ \(metadata\.location\)/);
    assert.equal(existsSync(path.join(d.dataRoot, 'metadata.db')), false, 'no SQLite file beside it');

    // Another daemon on the same data root and database finds it: the records were never in SQLite.
    const dataRoot = d.dataRoot;
    await d.stop();
    d = await Daemon.start({ dataRoot, extraArgs: ['--metadata', url] });
    assert.equal((await d.docker(['image', 'inspect', fx.familiar, '--format', '{{.Id}}'])).stdout.trim(), id);

    await cluster.stop();
    for (const args of [['tag', fx.familiar, 'pg/other:1'], ['image', 'inspect', fx.familiar]]) {
      const res = await d.docker(args);
      assert.notEqual(res.code, 0, `docker ${args.join(' ')} fails while the database is down`);
      assert.match(res.stderr, /metadata database unavailable: PostgreSQL at 127\.0\.0\.1:\d+\/lading_\d+_\d+: .*; try again once it is back/);
    }

    await cluster.start();
    await eventually(async () => (await d!.docker(['tag', fx.familiar, 'pg/other:1'])).code === 0, 'docker tag works again');
    const inspect = await d.docker(['image', 'inspect', 'pg/other:1', '--format', '{{.Id}}']);
    assert.equal(inspect.stdout.trim(), id, inspect.stderr);
  });
});
