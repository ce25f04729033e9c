// `docker load` of the bench's big archive with zstd layers and with gzip layers (the same files),
// each against the machine's bound measured the same way: reading and hashing the archive, and the
// CPU a bare Node script spends inflating and hashing its layers, spread over the cores.
import os from 'node:os';
import { bigArchive, type BigArchive } from '../lib/big-archive.js';
import { onFreshLadingd } from '../lib/ladingd.js';
import { inflateAndHash, machineBoundMs, readAndHash, type Cost } from '../lib/machine-bound.js';
import { fmt, met, type Row } from '../lib/report.js';
import { interleaved, pairedRatio } from '../lib/rounds.js';
import { median } from '../lib/stats.js';
import { postFile } from '../lib/upload.js';
import { zstdArchive } from '../lib/zstd-archive.js';
import { missingRegistryTools } from '../lib/registry-tools.js';
import { API, type Bench } from './bench.js';

const TARGET = 0.8;

type Arm = 'ladingd gzip' | 'ladingd zstd' | 'bound gzip' | 'bound zstd';

export async function loadZstdScenario(b: Bench): Promise<Row[]> {
  const gzip = await bigArchive(b.cacheDir, b.quick ? 100 : 1_000, b.log);
  const missing = await missingRegistryTools();
  if (missing) return [{ scenario: 'docker load, zstd layers', measure: "throughput vs the machine's bound", lading: '—', baseline: '—', ratio: '—', target: `>= ${TARGET}x`, met: 'skipped', note: `skipped (skopeo makes the zstd archive): ${missing}` }];
  const zstd = await zstdArchive(gzip, b.log);

  const load = (a: BigArchive) => async (): Promise<Cost> => {
    const { result: res, ms, cpu } = await onFreshLadingd('bench-load-zstd', (d) => postFile(d.socket, `${API}/images/load?quiet=1`, a.file));
    // skopeo's zstd archive names no image: its load says `Loaded image ID`.
    if (res.status !== 200 || !res.text.includes('Loaded image') || res.text.includes('errorDetail')) throw new Error(`ladingd: load: HTTP ${res.status} ${res.text.slice(0, 500)}`);
    return { ms, cpu };
  };
  const bound = (a: BigArchive) => async (): Promise<Cost> => {
    const read = await readAndHash(a.file);
    const checks = await inflateAndHash(a.file, a.layers);
    return { ms: machineBoundMs(read, checks), cpu: read.cpu + checks.cpu };
  };
  const arms: Record<Arm, () => Promise<Cost>> = { 'ladingd gzip': load(gzip), 'ladingd zstd': load(zstd), 'bound gzip': bound(gzip), 'bound zstd': bound(zstd) };
  b.log(`load: ${fmt.mb(gzip.bytes)} with gzip layers, ${fmt.mb(zstd.bytes)} with zstd layers, ${fmt.mb(gzip.unpackedBytes)} unpacked`);
  const runs = await interleaved(Math.min(b.rounds, 3), arms, b.log, (_arm, r) => `${(r.ms / 1000).toFixed(1)} s CPU ${r.cpu.toFixed(1)} s`);

  return (['gzip', 'zstd'] as const).map((kind): Row => {
    const a = kind === 'gzip' ? gzip : zstd;
    const lading = runs[`ladingd ${kind}`];
    const bounds = runs[`bound ${kind}`];
    const ratio = pairedRatio(bounds, lading, (r) => r.ms);
    const rate = (rs: Cost[]): string => fmt.mbps((a.bytes * 1000) / median(rs.map((r) => r.ms)));
    return {
      scenario: `docker load, ${fmt.mb(a.bytes)} archive, ${kind} layers`,
      measure: "throughput vs the machine's bound",
      lading: `${rate(lading)} (CPU ${median(lading.map((r) => r.cpu)).toFixed(1)} s)`,
      baseline: `${rate(bounds)} bound (${os.availableParallelism()} cores)`,
      ratio: fmt.ratio(ratio),
      target: `>= ${TARGET}x`,
      met: met(ratio >= TARGET),
      note:
        "The bound, per round: max(reading and sha256-hashing the archive, (that CPU + the CPU a bare Node script spends inflating and sha256-hashing the layers, two at a time) / cores); " +
        `${kind === 'zstd' ? 'zstd with the decoder Lading uses (native)' : 'gzip with zlib'}. The ratio is the median over rounds of the bound's time over ladingd's. A fresh data root each round; the archive is in the page cache.`,
    };
  });
}
