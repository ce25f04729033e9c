import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { FsContentStore } from '../content/fs-content-store.js';
import { ImageService } from '../images/image-service.js';
import type { Leases } from '../gc/leases.js';
import { loadLayout } from '../images/testing/service-fixture.js';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.js';
import { hexOf } from '../oci/digest.js';
import { buildImage, imageEntries, named } from '../archive/testing/sample-images.js';
import type { Logger } from '../util/logger.js';
import { checkDataRoot } from './check.js';
import { DIRTY_MARKER, StartupCheck } from './startup-check.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanups.splice(0)) fn();
});

function memoryLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    debugEnabled: true,
    debug: (m) => lines.push(`debug: ${m}`),
    info: (m) => lines.push(`info: ${m}`),
    warn: (m) => lines.push(`warn: ${m}`),
    error: (m) => lines.push(`error: ${m}`),
  };
}

async function openStores(root: string): Promise<{ images: ImageService; close(): void }> {
  const content = new FsContentStore(path.join(root, 'content'));
  await content.init();
  const metadata = new SqliteMetadataStore(path.join(root, 'metadata.db'));
  return { images: new ImageService(content, metadata), close: () => metadata.close() };
}

/** The service's leases, as a load in flight holds them. */
function leasesOf(images: ImageService): Leases {
  return (images as unknown as { leases: Leases }).leases;
}

function tempRoot(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'lading-startup-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

describe('start-up check', () => {
  it('a clean start marks the data root and a clean stop unmarks it; orphans are left to ladingd check', async () => {
    const root = tempRoot();
    const { images, close } = await openStores(root);
    cleanups.push(close);
    const orphan = (await images.content.writeBytes(Buffer.from('left by nobody'))).digest;
    const log = memoryLog();
    const check = await StartupCheck.open(root, images, log);
    assert.equal(check.unclean, false);
    assert.equal(existsSync(path.join(root, DIRTY_MARKER)), true);
    check.start();
    const report = await check.finished;
    assert.deepEqual(report, { unclean: false, missingTargets: [], staleLayerRecords: 0, orphansRemoved: 0 });
    assert.equal(await images.content.has(orphan), true, 'no orphan scan after a clean stop');
    await check.stop();
    assert.equal(existsSync(path.join(root, DIRTY_MARKER)), false);
    assert.deepEqual(log.lines.filter((l) => !l.startsWith('debug')), []);
  });

  it('after an unclean stop: removes orphans and stale layer records, keeps leased blobs, warns of missing targets', async () => {
    const root = tempRoot();
    const app = await buildImage({ architecture: 'amd64', os: 'linux' }, 'startup-app');
    const gone = await buildImage({ architecture: 'amd64', os: 'linux' }, 'startup-gone');
    const before = await openStores(root);
    await loadLayout(before.images, imageEntries(app), [named(app.manifest.desc, 'docker.io/library/app:1')]);
    await loadLayout(before.images, imageEntries(gone), [named(gone.manifest.desc, 'docker.io/library/gone:1')]);
    before.close();
    // The daemon starts again.
    const { images, close } = await openStores(root);
    cleanups.push(close);
    // gone:1 loses its manifest; what only it reached becomes unused.
    rmSync(path.join(root, 'content', 'blobs', 'sha256', hexOf(gone.manifest.desc.digest)));
    const orphan = (await images.content.writeBytes(Buffer.from('a load killed before naming'))).digest;
    const leased = (await images.content.writeBytes(Buffer.from('a load still running'))).digest;
    leasesOf(images).hold(leased);
    await images.metadata.putLayerFacts({ digest: `sha256:${'a'.repeat(64)}`, diffId: `sha256:${'b'.repeat(64)}`, unpackedSize: 1 });
    writeFileSync(path.join(root, DIRTY_MARKER), '123\n');

    const log = memoryLog();
    const check = await StartupCheck.open(root, images, log);
    assert.equal(check.unclean, true);
    check.start();
    const report = await check.finished;
    assert.ok(report);
    assert.deepEqual(report.missingTargets, [gone.manifest.desc.digest]);
    assert.equal(report.staleLayerRecords, 1);
    // The orphan, and gone:1's config and two layers (their layer records go with them).
    assert.equal(report.orphansRemoved, 4);
    assert.equal(await images.content.has(orphan), false);
    assert.equal(await images.content.has(leased), true, 'a blob held by an operation in flight stays');
    assert.equal(await images.content.has(app.layerBlobs[0]!.desc.digest), true);
    assert.equal(await images.metadata.getLayerFacts(gone.layerBlobs[0]!.desc.digest), undefined);
    assert.ok(log.lines.some((l) => l.startsWith('warn: Image docker.io/library/gone:1: its content ')), log.lines.join('\n'));
    assert.ok(log.lines.some((l) => /^info: Start-up check done in \d+ ms: 2 image target\(s\), 1 missing; removed 4 unused blob\(s\) and 1 stale layer record\(s\)$/.test(l)));
    await check.stop();
    assert.equal(existsSync(path.join(root, DIRTY_MARKER)), false);

    // What is left is what ladingd check reports and cannot repair: gone:1's missing manifest, and the leased blob.
    leasesOf(images).release([leased]);
    close();
    cleanups.pop();
    const after = await checkDataRoot(root, { repair: false });
    assert.deepEqual(
      after.problems.map((p) => p.message),
      [
        `image gone:1 (${gone.manifest.desc.digest}): its manifest ${gone.manifest.desc.digest} is missing`,
        `blob ${leased} (20 bytes) is not used by any image`,
      ],
    );
  });

  it('an unclean start whose recovery did not run or was cut short keeps the marker for the next start', async () => {
    const root = tempRoot();
    const { images, close } = await openStores(root);
    cleanups.push(close);
    writeFileSync(path.join(root, DIRTY_MARKER), '1\n');
    const never = await StartupCheck.open(root, images, memoryLog());
    await never.stop(); // never started: nothing recovered
    assert.equal(existsSync(path.join(root, DIRTY_MARKER)), true);

    const log = memoryLog();
    const cut = await StartupCheck.open(root, images, log);
    cut.start();
    await cut.stop(); // at once: the check gives up at its first step
    assert.equal(await cut.finished, undefined);
    assert.ok(log.lines.includes('debug: Start-up check cut short by the stop'), log.lines.join('\n'));
    assert.equal(existsSync(path.join(root, DIRTY_MARKER)), true);
  });

  it('a clean start cut short by the stop still clears the marker', async () => {
    const root = tempRoot();
    const { images, close } = await openStores(root);
    cleanups.push(close);
    const check = await StartupCheck.open(root, images, memoryLog());
    check.start();
    await check.stop();
    assert.equal(existsSync(path.join(root, DIRTY_MARKER)), false);
  });
});
