// `docker load` of a large multi-layer gzip archive vs what reading, hashing and gunzipping it costs in Node.
import { BIG_IMAGE, bigArchive, loadLimit } from '../lib/big-archive.js';
import { onFreshLadingd, type WorkCost } from '../lib/ladingd.js';
import { fmt, met, type Row } from '../lib/report.js';
import { interleaved, pairedRatio } from '../lib/rounds.js';
import { median } from '../lib/stats.js';
import { postFile } from '../lib/upload.js';
import { API, type Bench } from './bench.js';

/**
 * "Flat": loading the archive may raise the daemon's peak RSS by less than a quarter of what its
 * largest layer has over the small archive's: holding any part of a layer in proportion to its
 * size would show more.
 */
const FLAT_SHARE = 0.25;

type LoadRun = WorkCost;

export async function loadScenario(b: Bench): Promise<Row[]> {
  const sizeMB = b.quick ? 100 : 1_000;
  const archive = await bigArchive(b.cacheDir, sizeMB, b.log);
  // The same layers at a tenth of the size: what memory does not grow with.
  const small = await bigArchive(b.cacheDir, sizeMB / 10, b.log);
  const scenario = `docker load, ${fmt.mb(archive.bytes)} archive`;

  // A fresh daemon and data root for every load, so that every run writes every blob.
  const ladingLoad = (file: string) => async (): Promise<LoadRun> => {
    const { result: res, ...run } = await onFreshLadingd('bench-load', (d) => postFile(d.socket, `${API}/images/load`, file));
    if (res.status !== 200 || !res.text.includes(`Loaded image: ${BIG_IMAGE}`)) {
      throw new Error(`ladingd: load: HTTP ${res.status} ${res.text.slice(0, 500)}`);
    }
    return run;
  };
  const limit = async (): Promise<LoadRun> => {
    const cpu0 = process.cpuUsage();
    const ms = await loadLimit(archive);
    const cpu = process.cpuUsage(cpu0);
    return { ms, cpu: (cpu.user + cpu.system) / 1e6, rssBefore: Number.NaN, rssPeak: Number.NaN };
  };

  b.log(`load: ${fmt.mb(archive.bytes)}, ${archive.layers.length} gzip layers, ${fmt.mb(archive.unpackedBytes)} unpacked`);
  // At most 3 rounds: a round of the full-size archive takes half a minute.
  const arms = { ladingd: ladingLoad(archive.file), limit, 'ladingd, a tenth': ladingLoad(small.file) };
  const runs = await interleaved(Math.min(b.rounds, 3), arms, b.log, (arm, r) => {
    const bytes = arm === 'ladingd, a tenth' ? small.bytes : archive.bytes;
    const rss = arm === 'limit' ? '' : ` RSS ${fmt.mb(r.rssBefore)} → peak ${fmt.mb(r.rssPeak)}`;
    return `${fmt.mbps((bytes * 1000) / r.ms)} CPU ${r.cpu.toFixed(1)} s${rss}`;
  });
  const rate = (archive.bytes * 1000) / median(runs.ladingd.map((r) => r.ms));
  const limitRate = (archive.bytes * 1000) / median(runs.limit.map((r) => r.ms));
  // Rates: the limit's time over ladingd's.
  const ratio = pairedRatio(runs.limit, runs.ladingd, (r) => r.ms);
  const growthOf = (rs: LoadRun[]): number => Math.max(...rs.map((r) => r.rssPeak - r.rssBefore));
  const growth = growthOf(runs.ladingd);
  const smallGrowth = growthOf(runs['ladingd, a tenth']);
  const largest = (a: typeof archive): number => Math.max(...a.layers.map((l) => l.size));
  const flatBytes = FLAT_SHARE * (largest(archive) - largest(small));
  return [
    {
      scenario,
      measure: 'throughput vs the Node limit',
      lading: fmt.mbps(rate),
      baseline: `${fmt.mbps(limitRate)} read + sha256 + gunzip`,
      ratio: fmt.ratio(ratio),
      target: '>= 0.7x',
      met: met(ratio >= 0.7),
      note:
        `The limit reads the archive once, hashes all of it and gunzips every layer (${fmt.mb(archive.unpackedBytes)} out) in this process; ` +
        'ladingd also writes and fsyncs every blob, hashes the uncompressed layers (diff IDs) and parses their tars. ' +
        'A fresh data root each round; the archive is in the page cache for both.',
    },
    {
      scenario,
      measure: 'CPU time of the load vs the Node limit',
      lading: `${median(runs.ladingd.map((r) => r.cpu)).toFixed(1)} s`,
      baseline: `${median(runs.limit.map((r) => r.cpu)).toFixed(1)} s`,
      ratio: fmt.ratio(pairedRatio(runs.ladingd, runs.limit, (r) => r.cpu)),
      target: '(supporting)',
      met: 'info',
      note: 'User + system time of all threads (ladingd from /proc/PID/stat, the limit from process.cpuUsage), so a ratio near 1 with a low throughput ratio means time spent waiting, not computing.',
    },
    {
      scenario,
      measure: 'daemon RSS growth during the load (peak) vs a tenth of the size',
      lading: fmt.mb(growth),
      baseline: `${fmt.mb(smallGrowth)} loading ${fmt.mb(small.bytes)}`,
      ratio: `+${fmt.mb(growth - smallGrowth)}`,
      target: `flat (< +${fmt.mb(flatBytes)})`,
      met: met(growth - smallGrowth < flatBytes),
      note:
        `Sampled every 25 ms from /proc/PID/status, from ${fmt.mb(median(runs.ladingd.map((r) => r.rssBefore)))} before the load; the largest growth over all rounds. ` +
        `The small archive has the same ${small.layers.length} layers, each a tenth of the size (the largest ${fmt.mb(largest(small))} vs ${fmt.mb(largest(archive))}); ` +
        'flat: the growth differs by less than a quarter of that difference.',
    },
  ];
}
