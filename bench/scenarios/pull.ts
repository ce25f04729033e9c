// `docker pull` of the bench's ~1 GB multi-layer image from a docker-registry on loopback: ladingd
// vs the machine's bound (skopeo's copy, and what a bare Node script spends inflating and hashing the
// same layers, over the cores), vs `skopeo copy` of it to an OCI directory, and vs Docker 20.10's
// pull. The registry's storage is filled once (skopeo copy of the load scenario's archive) and kept
// in the bench cache; its log says how many blob downloads each client ran at once. `pull-zstd` is
// the same image with zstd layers, against its own bound.
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Dockerd } from '../../test/support/dockerd.js';
import { tempDir } from '../../test/support/paths.js';
import { Registry } from '../../test/support/registry.js';
import type { BigArchive } from '../lib/big-archive.js';
import { onFreshLadingd, type WorkCost } from '../lib/ladingd.js';
import { postForStream, type StreamAnswer } from '../lib/progress-stream.js';
import { blobGets, maxConcurrent } from '../lib/registry-log.js';
import { SKOPEO } from '../lib/registry-tools.js';
import { inflateAndHash, machineBoundMs, type Cost } from '../lib/machine-bound.js';
import { fmt, met, unmeasured, type Row } from '../lib/report.js';
import { interleaved, pairedRatio } from '../lib/rounds.js';
import { median } from '../lib/stats.js';
import { timedRun } from '../lib/timed-run.js';
import { zstdArchive } from '../lib/zstd-archive.js';
import { API, type Bench } from './bench.js';
import { describeCost, dockerdOrSkip, medianTime, stopDockerd, transferImage } from './registry-transfer.js';

const STORE_VERSION = 1;
export const REPOS = { gzip: 'bench/big', zstd: 'bench/big-zstd' } as const;
const TAG = 'v1';
const PULL_TIMEOUT_MS = 20 * 60_000;

type Arm = 'ladingd' | 'skopeo' | 'inflate + sha256' | 'dockerd 20.10';
type Layers = keyof typeof REPOS;

interface PullRun extends WorkCost {
  /** Blob GETs the registry served, and the most of them at once. */
  blobGets: number;
  parallel: number;
}

export const pullScenario = (b: Bench): Promise<Row[]> => pullOf(b, 'gzip');
export const pullZstdScenario = (b: Bench): Promise<Row[]> => pullOf(b, 'zstd');

async function pullOf(b: Bench, layers: Layers): Promise<Row[]> {
  const image = await transferImage(b, 'pull', "time vs the machine's bound", layers === 'gzip' ? '<= 1.15x' : '<= 1.25x');
  if (!('archive' in image)) return [image];
  const { sizeMB } = image;
  const archive = layers === 'gzip' ? image.archive : await zstdArchive(image.archive, b.log);
  const imageBytes = archive.layers.reduce((n, l) => n + l.size, 0);
  const scenario = `pull${layers === 'zstd' ? ' (zstd layers)' : ''}, ${fmt.mb(imageBytes)} image`;
  const REPO = REPOS[layers];

  const registry = await cachedRegistry(b, archive, sizeMB, layers);
  let docker: Dockerd | undefined;
  try {
    const ref = registry.ref(`${REPO}:${TAG}`);
    const createPath = `${API}/images/create?fromImage=${encodeURIComponent(registry.ref(REPO))}&tag=${TAG}`;
    const log = new LogWindow(registry.logPath);
    // What the registry's log says about one arm's pull; its last line can lag the client's last byte.
    const downloads = async (from: number): Promise<Pick<PullRun, 'blobGets' | 'parallel'>> => {
      await new Promise((r) => setTimeout(r, 200));
      const gets = blobGets(log.since(from));
      return { blobGets: gets.length, parallel: maxConcurrent(gets) };
    };

    // A fresh daemon and data root for every pull, so that every run fetches every blob.
    const ladingPull = async (): Promise<PullRun> => {
      const from = log.size();
      const { result: answer, ...run } = await onFreshLadingd('bench-pull', (d) => postForStream(d.socket, createPath));
      checkPull('ladingd', answer);
      return { ...run, ...(await downloads(from)) };
    };
    // The baseline: skopeo copy verifies every blob and writes it into an OCI layout, fsyncing each (as strace shows).
    const skopeoPull = async (): Promise<PullRun> => {
      const dir = path.join(tempDir('bench-pull-oci'), 'layout');
      try {
        const from = log.size();
        const { ms, cpu } = await timedRun(SKOPEO, ['copy', '--quiet', '--src-tls-verify=false', '--src-no-creds', `docker://${ref}`, `oci:${dir}:${TAG}`]);
        return { ms, cpu, rssBefore: Number.NaN, rssPeak: Number.NaN, ...(await downloads(from)) };
      } finally {
        rmSync(path.dirname(dir), { recursive: true, force: true });
      }
    };

    // What checking the diff IDs costs at the least: the same layers inflated and hashed in a bare Node script.
    const layerChecks = async (): Promise<PullRun> => ({ ...(await inflateAndHash(archive.file, archive.layers)), rssBefore: Number.NaN, rssPeak: Number.NaN, blobGets: 0, parallel: 0 });

    // Docker 20.10's column for the gzip image only: the zstd one is compared with its bound.
    const started = layers === 'gzip' ? await dockerdOrSkip(b) : { skipped: 'measured for the gzip image only' };
    const dockerSkip = 'skipped' in started ? started.skipped : undefined;
    if (!('skipped' in started)) docker = started;
    const arms: Partial<Record<Arm, () => Promise<PullRun>>> = { ladingd: ladingPull, skopeo: skopeoPull, 'inflate + sha256': layerChecks };
    if (docker) {
      const dockerd = docker;
      arms['dockerd 20.10'] = async () => {
        const from = log.size();
        const t0 = performance.now();
        const answer = await postForStream(dockerd.socket, createPath);
        const ms = performance.now() - t0;
        checkPull('dockerd', answer);
        const runs = { ms, cpu: Number.NaN, rssBefore: Number.NaN, rssPeak: Number.NaN, ...(await downloads(from)) };
        // Untimed: the next round pulls every layer again.
        const removed = await dockerd.request(`${API}/images/${ref}?force=1`, { method: 'DELETE', timeoutMs: PULL_TIMEOUT_MS });
        if (removed.status !== 200) throw new Error(`dockerd: DELETE image: HTTP ${removed.status} ${removed.text}`);
        return runs;
      };
    }

    b.log(`pull ${ref}: ${fmt.mb(imageBytes)} in ${archive.layers.length} ${layers} layers (${fmt.mb(archive.unpackedBytes)} unpacked); ${Object.keys(arms).join(', ')}`);
    // At most 3 rounds, as for load: a round of the full-size image takes a minute or more.
    const runs = await interleaved(Math.min(b.rounds, 3), arms as Record<Arm, () => Promise<PullRun>>, b.log, (arm, r) =>
      [...describeCost(imageBytes, arm, r), `${r.blobGets} blob GETs, at most ${r.parallel} at once`].join(' '),
    );
    return rows(scenario, layers, imageBytes, archive, runs, dockerSkip);
  } finally {
    await stopDockerd(b, docker);
    await registry.stop();
  }
}

function rows(
  scenario: string,
  layers: Layers,
  imageBytes: number,
  archive: BigArchive,
  runs: Partial<Record<Arm, PullRun[]>>,
  dockerSkip: string | undefined,
): Row[] {
  const lading = runs.ladingd ?? [];
  const skopeo = runs.skopeo ?? [];
  const docker = runs['dockerd 20.10'] ?? [];
  const checks = runs['inflate + sha256'] ?? [];
  const time = (rs: PullRun[]): string => medianTime(imageBytes, rs);
  const vsSkopeo = pairedRatio(lading, skopeo, (r) => r.ms);
  const leastParallel = Math.min(...lading.map((r) => r.parallel));
  // Each round's bound from that round's skopeo copy and layer checks.
  const bounds: Cost[] = skopeo.map((s, i) => ({ ms: machineBoundMs(s, checks[i] ?? { ms: 0, cpu: Number.NaN }), cpu: Number.NaN }));
  const vsBound = pairedRatio(lading, bounds, (r) => r.ms);
  const boundTarget = layers === 'gzip' ? 1.15 : 1.25;
  const out: Row[] = [
    {
      scenario,
      measure: "time vs the machine's bound",
      lading: time(lading),
      baseline: `${fmt.ms(median(bounds.map((r) => r.ms)))} bound (${os.availableParallelism()} cores)`,
      ratio: fmt.ratio(vsBound),
      target: `<= ${boundTarget}x`,
      met: met(vsBound <= boundTarget),
      note:
        "The bound, per round: max(skopeo copy's time, (skopeo's CPU seconds + the CPU seconds a bare Node script spends inflating and sha256-hashing the same layers) / cores). " +
        `The script: ${layers === 'gzip' ? 'zlib gunzip (256 KiB chunks)' : 'the zstd decoder Lading uses (native)'}, two layers at a time, ${median(checks.map((r) => r.cpu)).toFixed(1)} s of CPU (median). ` +
        `Lading's ratio is the median of the per-round ratios of its time over that round's bound.`,
    },
  ];
  if (layers === 'zstd') return out;
  out.push(
    {
      scenario,
      measure: 'time vs skopeo copy to an OCI directory',
      lading: time(lading),
      baseline: time(skopeo),
      ratio: fmt.ratio(vsSkopeo),
      // skopeo alone is no bound for a pull that must inflate every layer (issue 17): the row above is.
      target: '(informative)',
      met: 'info',
      note:
        `Time from POST /images/create to the end of its progress stream, into a fresh data root each round; skopeo copy --src-tls-verify=false docker://… oci:DIR (blobs verified and written, nothing decompressed). ` +
        `Informative since issue 17: skopeo inflates nothing, so the bound above (skopeo's work and the inflating, over the cores) is the target. ` +
        `ladingd also gunzips every layer to check its diff ID (${fmt.mb(archive.unpackedBytes)} unpacked). The registry's storage is in the page cache for all.`,
    },
  );
  if (docker.length > 0) {
    const vsDocker = pairedRatio(docker, lading, (r) => r.ms);
    out.push({
      scenario,
      measure: 'speed vs Docker 20.10 pull',
      lading: time(lading),
      baseline: time(docker),
      ratio: fmt.ratio(vsDocker),
      target: '> 1x',
      met: met(vsDocker > 1),
      note: "Docker's time over ladingd's. dockerd 20.10 (Debian's docker.io, vfs) also unpacks every layer, each into a full copy of the one below; the image is removed after each pull, untimed.",
    });
  } else {
    out.push(unmeasured(scenario, 'speed vs Docker 20.10 pull', '> 1x', 'skipped', `skipped: ${dockerSkip ?? 'no dockerd'}`));
  }
  out.push(
    {
      scenario,
      measure: 'CPU time of the pull vs skopeo',
      lading: `${median(lading.map((r) => r.cpu)).toFixed(1)} s`,
      baseline: `${median(skopeo.map((r) => r.cpu)).toFixed(1)} s`,
      ratio: fmt.ratio(pairedRatio(lading, skopeo, (r) => r.cpu)),
      target: '(supporting)',
      met: 'info',
      note: 'User + system time of all threads, from /proc/PID/stat (skopeo sampled every 50 ms until it exits).',
    },
    {
      scenario,
      measure: 'blob downloads at once (registry log)',
      lading: `${leastParallel} (least over rounds)`,
      baseline: `${Math.min(...skopeo.map((r) => r.parallel))} skopeo${docker.length > 0 ? `, ${Math.min(...docker.map((r) => r.parallel))} Docker 20.10` : ''}`,
      ratio: '—',
      target: 'layers in parallel (> 1)',
      met: met(leastParallel > 1),
      note:
        `The most blob GETs in progress at one moment, from the registry's "response completed" lines (start = end - duration); ${lading[0]?.blobGets ?? 0} blob GETs per ladingd pull. ` +
        'The registry finishes a response when its last byte is in the socket buffer, so this counts a little low. ladingd fetches at most 3 blobs at once (--max-concurrent-downloads, default 3), skopeo 6.',
    },
    {
      scenario,
      measure: 'daemon RSS during the pull (peak)',
      lading: fmt.mb(Math.max(...lading.map((r) => r.rssPeak))),
      baseline: `${fmt.mb(median(lading.map((r) => r.rssBefore)))} before the pull`,
      ratio: '—',
      target: '(informative)',
      met: 'info',
      note: 'Sampled every 25 ms from /proc/PID/status; the highest over all rounds.',
    },
  );
  return out;
}

/**
 * A registry on loopback serving `bench/big:v1`, the load scenario's archive, from storage kept in
 * the bench cache: pushed with skopeo the first time (about a minute for 1 GB).
 */
export async function cachedRegistry(b: Bench, archive: BigArchive, sizeMB: number, layers: Layers): Promise<Registry> {
  const root = path.join(b.cacheDir, `registry-v${STORE_VERSION}-${sizeMB}MB`);
  const marker = path.join(root, layers === 'gzip' ? 'pushed.json' : `pushed-${layers}.json`);
  const REPO = REPOS[layers];
  const filled = existsSync(marker);
  mkdirSync(root, { recursive: true });
  const registry = await Registry.start({ config: { storage: { filesystem: { rootdirectory: path.join(root, 'data') } } } });
  if (filled) return registry;
  try {
    b.log(`pushing ${archive.file} into a registry in ${root} (kept for later runs)`);
    const t0 = performance.now();
    const res = await registry.skopeo(
      ['copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', '--dest-no-creds', `oci-archive:${archive.file}`, `docker://${registry.ref(`${REPO}:${TAG}`)}`],
      PULL_TIMEOUT_MS,
    );
    if (res.code !== 0) throw new Error(`skopeo copy into the registry exited ${res.code}: ${res.stderr.trim()}\n${registry.logs(4096)}`);
    writeFileSync(marker, JSON.stringify({ image: `${REPO}:${TAG}`, archive: archive.file }));
    b.log(`pushed in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    return registry;
  } catch (err) {
    await registry.stop();
    throw err;
  }
}

/** Reads what a growing log file gained since an offset. */
class LogWindow {
  constructor(private readonly file: string) {}

  size(): number {
    const fd = openSync(this.file, 'r');
    try {
      return fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
  }

  since(offset: number): string {
    const fd = openSync(this.file, 'r');
    try {
      const buf = Buffer.alloc(Math.max(0, fstatSync(fd).size - offset));
      const n = readSync(fd, buf, 0, buf.length, offset);
      return buf.subarray(0, n).toString('utf8');
    } finally {
      closeSync(fd);
    }
  }
}

export function checkPull(who: string, a: StreamAnswer): void {
  if (a.status !== 200 || a.tail.includes('"errorDetail"') || !a.tail.includes('Status: Downloaded newer image')) {
    throw new Error(`${who}: pull: HTTP ${a.status} ${a.tail.slice(-1000)}`);
  }
}
