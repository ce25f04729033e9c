// `ladingd check` as a command against a real data root: read-only beside a running daemon, clean
// after loads, a damaged blob found and repaired, the image kept and still answering inspect.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { buildArchives, LadingProcess, Rng, LADINGD } from '../crash/kill-harness.js';
import { Daemon, request } from '../support/daemon.js';
import { run } from '../support/exec.js';
import { tempDir } from '../support/paths.js';

const check = (dataRoot: string, ...extra: string[]) => run(process.execPath, [LADINGD, 'check', '--data-root', dataRoot, ...extra], { timeoutMs: 60_000 });

/** A daemon on a new data root into which the named images of a few generated archives were loaded. */
async function loadedDaemon(seed: number) {
  const archives = (await buildArchives(new Rng(seed), 4)).filter((a) => a.names.size > 0);
  const daemon = await Daemon.start({ logLevel: 'info' });
  const names: string[] = [];
  for (const archive of archives) {
    const res = await daemon.request('/v1.51/images/load?quiet=1', { method: 'POST', body: archive.tar, headers: { 'Content-Type': 'application/x-tar' } });
    assert.equal(res.status, 200, res.text);
    names.push(...archive.names.keys());
  }
  return { archives, daemon, names };
}

/** The config digest of the image `target` names (its first manifest's, for an index). */
function configOf(blobs: string, target: string): string {
  let doc = JSON.parse(readFileSync(path.join(blobs, target.slice(7)), 'utf8')) as { manifests?: Array<{ digest: string }>; config?: { digest: string } };
  if (doc.manifests) doc = JSON.parse(readFileSync(path.join(blobs, doc.manifests[0]!.digest.slice(7)), 'utf8'));
  return doc.config!.digest;
}

describe('ladingd check', { timeout: 300_000 }, () => {
  it('beside a running daemon: clean while loads and removals go on, a damaged blob found, --repair refused', async () => {
    const { archives, daemon, names } = await loadedDaemon(21);
    try {
      // Loads (ingest files, blobs not yet named) and removals (blobs going) while the checks run.
      const more = (await buildArchives(new Rng(22), 6)).filter((a) => a.names.size > 0);
      const writes = (async () => {
        for (const archive of more) {
          const res = await daemon.request('/v1.51/images/load?quiet=1', { method: 'POST', body: archive.tar, headers: { 'Content-Type': 'application/x-tar' } });
          assert.equal(res.status, 200, res.text);
          const [name] = [...archive.names.keys()];
          const rm = await daemon.request(`/v1.51/images/${encodeURIComponent(name!)}`, { method: 'DELETE' });
          assert.equal(rm.status, 200, rm.text);
        }
      })();
      let checks = 0;
      let done = false;
      void writes.finally(() => (done = true)).catch(() => undefined);
      while (!done || checks < 2) {
        const live = await check(daemon.dataRoot);
        assert.equal(live.code, 0, live.stdout + live.stderr);
        assert.equal(live.stdout, '');
        assert.match(live.stderr, /a daemon is running: read-only check/);
        assert.match(live.stderr, /: \d+ blob\(s\), \d+ image\(s\): no problems\n$/);
        checks++;
      }
      await writes;

      const name = names[0]!;
      const target = archives[0]!.names.get(name)!;
      const blobs = path.join(daemon.dataRoot, 'content', 'blobs', 'sha256');
      const config = configOf(blobs, target);
      const original = readFileSync(path.join(blobs, config.slice(7)));
      writeFileSync(path.join(blobs, config.slice(7)), 'damaged');
      const found = await check(daemon.dataRoot);
      assert.equal(found.code, 1, found.stdout + found.stderr);
      assert.match(found.stdout, new RegExp(`^corrupt blob ${config}: its 7 bytes hash to sha256:`));
      assert.ok(found.stdout.split('\n').some((l) => l.startsWith('image ') && l.includes(`config ${config}`) && l.endsWith('is corrupt')), found.stdout);

      const refused = await check(daemon.dataRoot, '--repair');
      assert.equal(refused.code, 2);
      assert.equal(refused.stdout, '');
      assert.match(refused.stderr, /^ladingd check: another ladingd is already running with data root .*; stop it before repairing\n$/);
      writeFileSync(path.join(blobs, config.slice(7)), original);
      // The daemon was not disturbed: it still answers for the image.
      const res = await daemon.request(`/v1.51/images/${encodeURIComponent(name)}/json`);
      assert.equal(res.status, 200, res.text);
    } finally {
      await daemon.stop();
    }
  });

  it('stopped: clean after loads, finds and repairs a damaged layer', async () => {
    const { archives, daemon, names } = await loadedDaemon(6);
    await daemon.stop();

    const clean = await check(daemon.dataRoot);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.equal(clean.stdout, '');
    assert.match(clean.stderr, /: \d+ blob\(s\), \d+ image\(s\): no problems\n$/);

    // Damage the last layer of the first image's manifest.
    const name = names[0]!;
    const target = archives[0]!.names.get(name)!;
    const blobs = path.join(daemon.dataRoot, 'content', 'blobs', 'sha256');
    let manifest = JSON.parse(readFileSync(path.join(blobs, target.slice(7)), 'utf8')) as {
      manifests?: Array<{ digest: string }>;
      layers?: Array<{ digest: string }>;
    };
    if (manifest.manifests) manifest = JSON.parse(readFileSync(path.join(blobs, manifest.manifests[0]!.digest.slice(7)), 'utf8'));
    const layer = manifest.layers!.at(-1)!.digest;
    writeFileSync(path.join(blobs, layer.slice(7)), 'damaged');

    const found = await check(daemon.dataRoot);
    assert.equal(found.code, 1);
    const lines = found.stdout.trim().split('\n');
    assert.match(lines[0]!, new RegExp(`^corrupt blob ${layer}: its 7 bytes hash to sha256:`));
    assert.ok(lines.some((l) => l.startsWith(`image ${name}`) && l.includes(`layer ${layer}`) && l.endsWith('is corrupt')), found.stdout);

    const repaired = await check(daemon.dataRoot, '--repair');
    assert.equal(repaired.code, 1);
    assert.match(repaired.stdout, /: removed\n/);
    assert.match(repaired.stdout, /is missing: kept, with its content incomplete\n/);
    assert.match(repaired.stderr, /problem\(s\), 1 repaired\n$/);

    // The image stays: inspect answers, the damaged manifest shown unavailable.
    const socket = path.join(tempDir('store-check'), 'd.sock');
    const again = await LadingProcess.start(socket, daemon.dataRoot);
    try {
      const res = await request(socket, `/v1.51/images/${name}/json?manifests=1`);
      assert.equal(res.status, 200, res.text);
      const doc = res.json<{ Id: string; RepoTags: string[]; Manifests: Array<{ ID: string; Available: boolean }> }>();
      assert.equal(doc.Id, target);
      assert.deepEqual(doc.RepoTags, [name]);
      assert.ok(doc.Manifests.some((m) => !m.Available), JSON.stringify(doc.Manifests));
    } finally {
      assert.equal(await again.stop(), 0);
    }
    const after = await check(daemon.dataRoot);
    assert.equal(after.code, 1);
    assert.doesNotMatch(after.stdout, /corrupt blob/);
  });

  it('a data root of the previous schema (no blob graph) is upgraded at start; rmi then removes exactly what it used', async () => {
    const { daemon, names } = await loadedDaemon(11);
    await daemon.stop();
    // What the previous ladingd wrote: no blob graph, no facts, user_version 0.
    const db = new Database(path.join(daemon.dataRoot, 'metadata.db'));
    db.exec('DROP TABLE blob_edges; DROP TABLE target_facts; PRAGMA user_version = 0');
    db.close();
    const old = await check(daemon.dataRoot);
    assert.equal(old.code, 1);
    assert.match(old.stdout, /^the blob graph has not been built/);

    const socket = path.join(tempDir('store-upgrade'), 'd.sock');
    const again = await LadingProcess.start(socket, daemon.dataRoot);
    try {
      const res = await request(socket, `/v1.51/images/${encodeURIComponent(names[0]!)}`, { method: 'DELETE' });
      assert.equal(res.status, 200, res.text);
      const list = await request(socket, '/v1.51/images/json');
      assert.equal(list.status, 200, list.text);
    } finally {
      assert.equal(await again.stop(), 0);
    }
    const after = await check(daemon.dataRoot);
    assert.equal(after.code, 0, after.stdout + after.stderr);
  });
});
