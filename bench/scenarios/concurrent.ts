// Reads while images are loaded and tagged: 16 readers (inspect, and list where it answers) against a
// daemon that a writer keeps changing, interleaved with rounds of the same readers alone.
import path from 'node:path';
import { request } from '../../test/support/daemon.js';
import { tempDir } from '../../test/support/paths.js';
import { MediaType } from '../../src/oci/media-types.js';
import { buildTar } from '../../src/archive/testing/archive-builder.js';
import { blob, blobEntry, configJson, indexJson, layer, OCI_LAYOUT, ociManifest } from '../../src/archive/testing/image-builder.js';
import type { LoadRequest, LoadResult } from '../lib/http-load.js';
import { startLadingd, type BenchDaemon } from '../lib/ladingd.js';
import { fmt, met, unmeasured, type Row } from '../lib/report.js';
import { interleaved, pairedRatio } from '../lib/rounds.js';
import { median } from '../lib/stats.js';
import { API, inspectPath, type Bench } from './bench.js';

const READ_IMAGES = 20;
const LOAD = { method: 'POST', headers: { 'Content-Type': 'application/x-tar' }, timeoutMs: 60_000 };

/** A small OCI archive of one image with a layer of its own. */
async function smallArchive(repo: string, tag: string, n: number): Promise<Buffer> {
  const l = await layer({ [`bench/${repo}-${n}`]: `image ${repo}:${tag} ${n}\n` });
  const layerBlob = blob(l.tar, MediaType.ociLayer);
  const config = blob(configJson([l.diffId], { author: `bench ${n}` }), MediaType.ociConfig);
  const manifest = ociManifest(config.desc, [layerBlob.desc]);
  const annotations = { 'io.containerd.image.name': `docker.io/library/${repo}:${tag}`, 'org.opencontainers.image.ref.name': tag };
  return buildTar([OCI_LAYOUT, indexJson([{ ...manifest.desc, annotations }]), blobEntry(layerBlob), blobEntry(config), blobEntry(manifest)]);
}

async function load(d: BenchDaemon, archive: Buffer): Promise<void> {
  const res = await request(d.socket, `${API}/images/load`, { ...LOAD, body: archive });
  if (res.status !== 200) throw new Error(`load: HTTP ${res.status} ${res.text.slice(0, 300)}`);
}

export async function concurrentScenario(b: Bench): Promise<Row[]> {
  const scenario = 'reads during loads and tags';
  const d = await startLadingd(path.join(tempDir('bench-concurrent'), 'data'));
  try {
    for (let i = 0; i < READ_IMAGES; i++) await load(d, await smallArchive('bench-read', `r${i}`, i));
    const listAnswers = (await request(d.socket, `${API}/images/json`)).status === 200;
    const tagProbe = await request(d.socket, `${API}/images/bench-read:r0/tag?repo=bench-probe&tag=v1`, { method: 'POST' });
    const tagAnswers = tagProbe.status === 201;
    const skipped = [
      listAnswers ? '' : 'GET /images/json does not answer yet (issue 3): readers only inspect',
      tagAnswers ? '' : `POST /images/{name}/tag does not answer yet (HTTP ${tagProbe.status}): the writer only loads`,
    ].filter(Boolean);
    for (const s of skipped) b.log(s);

    // Inspect of every read image, and a list for every fourth of them.
    const readers: LoadRequest[] = [];
    for (let i = 0; i < READ_IMAGES; i++) {
      readers.push({ label: 'inspect', path: inspectPath(`bench-read:r${i}`) });
      if (listAnswers && i % 4 === 0) readers.push({ label: 'list', path: `${API}/images/json` });
    }

    const archives = await Promise.all(Array.from({ length: b.quick ? 100 : 400 }, (_, i) => smallArchive('bench-write', `w${i}`, i)));
    let written = 0;
    let writeMs = 0;
    const writer = async (until: Promise<unknown>): Promise<void> => {
      let done = false;
      void until.finally(() => (done = true));
      while (!done) {
        const n = written % archives.length;
        const t0 = performance.now();
        await load(d, archives[n] as Buffer);
        if (tagAnswers) {
          const res = await request(d.socket, `${API}/images/bench-write:w${n}/tag?repo=bench-tagged&tag=t${written}`, { method: 'POST' });
          if (res.status !== 201) throw new Error(`tag: HTTP ${res.status} ${res.text.slice(0, 300)}`);
        }
        writeMs += performance.now() - t0;
        written++;
      }
    };

    const readAlone = (): Promise<LoadResult> => b.client.run(b.job(d.socket, readers, d.pid));
    const readWhileWriting = async (): Promise<LoadResult> => {
      const reads = b.client.run(b.job(d.socket, readers, d.pid));
      // A failed write still lets the readers finish: the client runs one job at a time.
      const [result, writes] = await Promise.allSettled([reads, writer(reads)]);
      if (writes.status === 'rejected') throw writes.reason;
      if (result.status === 'rejected') throw result.reason;
      return result.value;
    };
    b.log(`readers: ${readers.length} requests in turn (${readers.filter((r) => r.label === 'list').length} lists)`);
    const runs = await interleaved(b.rounds, { writing: readWhileWriting, idle: readAlone }, b.log, (_, r) =>
      Object.entries(r.byLabel)
        .map(([label, s]) => `${label} p99 ${fmt.ms(s.p99)}`)
        .join(' ') + (r.errors ? ` ${r.errors} errors` : ''),
      { warmupRound: true },
    );

    const rows: Row[] = [];
    for (const label of listAnswers ? ['inspect', 'list'] : ['inspect']) {
      const p99 = median(runs.writing.map((r) => r.byLabel[label]?.p99 ?? Number.NaN));
      const idle = median(runs.idle.map((r) => r.byLabel[label]?.p99 ?? Number.NaN));
      const errors = [...runs.writing, ...runs.idle].reduce((n, r) => n + (r.byLabel[label]?.errors ?? 0), 0);
      rows.push({
        scenario,
        measure: `${label} p99, 16 readers, writes going on`,
        lading: fmt.ms(p99),
        baseline: `${fmt.ms(idle)} without writes`,
        ratio: fmt.ratio(pairedRatio(runs.writing, runs.idle, (r) => r.byLabel[label]?.p99 ?? Number.NaN)),
        target: '< 50 ms',
        met: met(p99 < 50 && errors === 0),
        ...(errors ? { note: `${errors} errors: ${[...runs.writing, ...runs.idle].find((r) => r.firstError)?.firstError}` } : {}),
      });
    }
    if (!listAnswers) {
      rows.push(unmeasured(scenario, 'list p99, 16 readers, writes going on', '< 50 ms', 'skipped', skipped[0] ?? ''));
    }
    rows.push({
      scenario,
      measure: tagAnswers ? 'writes: load + tag' : 'writes: load',
      lading: `${(written / (writeMs / 1000)).toFixed(0)} /s`,
      baseline: '—',
      ratio: '—',
      target: '(informative)',
      met: 'info',
      note: [`${written} writes of a one-layer image during the writing rounds, one at a time`, ...(tagAnswers ? [] : skipped.slice(-1))].join('; '),
    });
    return rows;
  } finally {
    await d.daemon.stop();
  }
}
