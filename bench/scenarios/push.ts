// `docker push` of the bench's ~1 GB multi-layer image from ladingd into a docker-registry on loopback,
// vs `skopeo copy` of the same image from an OCI layout, and vs Docker 20.10's push. Every push goes
// into a registry started for it (empty storage, a new port), so no client finds a blob there or
// knows a repository there to mount from: every blob is uploaded, every round. No target exists for
// push: the rows are informative.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { request } from '../../test/support/daemon.js';
import type { Dockerd } from '../../test/support/dockerd.js';
import { run } from '../../test/support/exec.js';
import { tempDir } from '../../test/support/paths.js';
import { Registry } from '../../test/support/registry.js';
import { BIG_IMAGE, type BigArchive } from '../lib/big-archive.js';
import { measured, startLadingd, type BenchDaemon, type WorkCost } from '../lib/ladingd.js';
import { postForStream, type StreamAnswer } from '../lib/progress-stream.js';
import { blobUploads, maxConcurrent } from '../lib/registry-log.js';
import { SKOPEO } from '../lib/registry-tools.js';
import { fmt, unmeasured, type Row } from '../lib/report.js';
import { interleaved, pairedRatio } from '../lib/rounds.js';
import { median } from '../lib/stats.js';
import { timedRun } from '../lib/timed-run.js';
import { postBody, postFile } from '../lib/upload.js';
import { API, type Bench } from './bench.js';
import { describeCost, dockerdOrSkip, medianTime, stopDockerd, transferImage } from './registry-transfer.js';

const TAG = 'v1';
const TAR_TIMEOUT_MS = 20 * 60_000;
/** `{}`: no credentials. Docker 20.10 refuses a push without the header. */
const NO_AUTH = { 'X-Registry-Auth': 'e30=' };

type Arm = 'ladingd' | 'skopeo' | 'dockerd 20.10';

interface PushRun extends WorkCost {
  /** Blob upload PUTs the registry completed (one per blob), and the most upload requests at once. */
  blobPuts: number;
  parallel: number;
}

/** The archive's image as an OCI layout on disk, and what it holds. */
interface Layout {
  dir: string;
  manifest: string;
  blobs: number;
}

export async function pushScenario(b: Bench): Promise<Row[]> {
  const image = await transferImage(b, 'push', 'time vs skopeo copy from an OCI layout', '(informative)');
  if (!('archive' in image)) return [image];
  const { archive, imageBytes, scenario } = image;

  const work = tempDir('bench-push');
  let lading: BenchDaemon | undefined;
  let docker: Dockerd | undefined;
  try {
    b.log(`unpacking ${archive.file} into an OCI layout for skopeo (untimed)`);
    const layout = await unpackLayout(archive, path.join(work, 'layout'));
    b.log('loading the image into a fresh ladingd (untimed)');
    lading = await startLadingd(path.join(work, 'ladingd'));
    const d = lading;
    await loaded('ladingd', postFile(d.socket, `${API}/images/load`, archive.file));

    let pushes = 0;
    /** A registry for one push; what its log says about the uploads once the push is done. */
    const intoFreshRegistry = async (push: (ref: string) => Promise<WorkCost>): Promise<PushRun> => {
      const registry = await Registry.start();
      try {
        const cost = await push(registry.ref(`bench/push${++pushes}:${TAG}`));
        // The registry's last log line can lag the client's last byte.
        await new Promise((r) => setTimeout(r, 200));
        const uploads = blobUploads(readFileSync(registry.logPath, 'utf8'));
        const blobPuts = uploads.filter((u) => u.method === 'PUT').length;
        if (blobPuts !== layout.blobs) throw new Error(`${blobPuts} blob uploads completed, ${layout.blobs} expected: a blob was skipped or mounted\n${registry.logs(2048)}`);
        return { ...cost, blobPuts, parallel: maxConcurrent(uploads) };
      } finally {
        await registry.stop();
      }
    };

    const ladingPush = (): Promise<PushRun> =>
      intoFreshRegistry(async (ref) => {
        await tag(d.socket, ref);
        const { result: answer, ...cost } = await measured(d, () => postForStream(d.socket, pushPath(ref), NO_AUTH));
        checkPush('ladingd', answer, layout.manifest);
        return cost;
      });
    const skopeoPush = (): Promise<PushRun> =>
      intoFreshRegistry(async (ref) => {
        const digestFile = path.join(work, 'skopeo-digest');
        const { ms, cpu } = await timedRun(SKOPEO, [
          'copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', '--dest-no-creds', '--digestfile', digestFile,
          `oci:${layout.dir}:${TAG}`, `docker://${ref}`,
        ]);
        const digest = readFileSync(digestFile, 'utf8').trim();
        if (digest !== layout.manifest) throw new Error(`skopeo pushed ${digest}, not ${layout.manifest}`);
        return { ms, cpu, rssBefore: Number.NaN, rssPeak: Number.NaN };
      });

    const arms: Partial<Record<Arm, () => Promise<PushRun>>> = { ladingd: ladingPush, skopeo: skopeoPush };
    const started = await dockerdOrSkip(b);
    const dockerSkip = 'skipped' in started ? started.skipped : undefined;
    if (!('skipped' in started)) {
      const dockerd = started;
      docker = dockerd;
      b.log('loading the image into dockerd 20.10 (untimed)');
      await loaded('dockerd', postBody(dockerd.socket, `${API}/images/load`, dockerArchive(layout)));
      arms['dockerd 20.10'] = () =>
        intoFreshRegistry(async (ref) => {
          await tag(dockerd.socket, ref);
          const t0 = performance.now();
          const answer = await postForStream(dockerd.socket, pushPath(ref), NO_AUTH);
          const ms = performance.now() - t0;
          checkPush('dockerd', answer);
          return { ms, cpu: Number.NaN, rssBefore: Number.NaN, rssPeak: Number.NaN };
        });
    }

    b.log(`push ${BIG_IMAGE}: ${fmt.mb(imageBytes)} in ${archive.layers.length} gzip layers; ${Object.keys(arms).join(', ')}`);
    // At most 3 rounds, as for pull: a round of the full-size image takes a minute or more.
    const runs = await interleaved(Math.min(b.rounds, 3), arms as Record<Arm, () => Promise<PushRun>>, b.log, (arm, r) =>
      [...describeCost(imageBytes, arm, r), `${r.blobPuts} blob uploads, at most ${r.parallel} requests at once`].join(' '),
    );
    return rows(scenario, imageBytes, archive, runs, dockerSkip);
  } finally {
    await stopDockerd(b, docker);
    await lading?.daemon.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

function rows(
  scenario: string,
  imageBytes: number,
  archive: BigArchive,
  runs: Partial<Record<Arm, PushRun[]>>,
  dockerSkip: string | undefined,
): Row[] {
  const lading = runs.ladingd ?? [];
  const skopeo = runs.skopeo ?? [];
  const docker = runs['dockerd 20.10'] ?? [];
  const time = (rs: PushRun[]): string => medianTime(imageBytes, rs);
  const least = (rs: PushRun[]): number => Math.min(...rs.map((r) => r.parallel));
  const info = { scenario, target: '(informative)', met: 'info' as const };
  const out: Row[] = [
    {
      ...info,
      measure: 'time vs skopeo copy from an OCI layout',
      lading: time(lading),
      baseline: time(skopeo),
      ratio: fmt.ratio(pairedRatio(lading, skopeo, (r) => r.ms)),
      note:
        'Time from POST /images/{name}/push to the end of its progress stream; skopeo copy --preserve-digests oci:DIR docker://…, from a layout unpacked once from the same archive ' +
        '(oci-archive: would unpack the archive again on every copy). Both send the same blobs (the manifest digest is checked). ' +
        'Every push goes into a registry started for it (empty storage, a new port): nothing is skipped or mounted, which the registry log confirms. The image was loaded once, untimed.',
    },
  ];
  if (docker.length > 0) {
    out.push({
      ...info,
      measure: 'speed vs Docker 20.10 push',
      lading: time(lading),
      baseline: time(docker),
      ratio: fmt.ratio(pairedRatio(docker, lading, (r) => r.ms)),
      note:
        "Docker's time over ladingd's. dockerd 20.10 (Debian's docker.io, vfs, graph-driver store) keeps no compressed layers: it tars and gzips every layer again from its unpacked files " +
        `(${fmt.mb(archive.unpackedBytes)}), so its digests differ; the image was loaded once, untimed.`,
    });
  } else {
    out.push(unmeasured(scenario, 'speed vs Docker 20.10 push', '(informative)', 'skipped', `skipped: ${dockerSkip ?? 'no dockerd'}`));
  }
  out.push(
    {
      ...info,
      measure: 'CPU time of the push vs skopeo',
      lading: `${median(lading.map((r) => r.cpu)).toFixed(1)} s`,
      baseline: `${median(skopeo.map((r) => r.cpu)).toFixed(1)} s`,
      ratio: fmt.ratio(pairedRatio(lading, skopeo, (r) => r.cpu)),
      note: 'User + system time of all threads, from /proc/PID/stat (skopeo sampled every 50 ms until it exits).',
    },
    {
      ...info,
      measure: 'blob uploads at once (registry log)',
      lading: `${least(lading)} (least over rounds)`,
      baseline: `${least(skopeo)} skopeo${docker.length > 0 ? `, ${least(docker)} Docker 20.10` : ''}`,
      ratio: '—',
      note:
        `The most upload requests (PATCH, PUT) in progress at one moment, from the registry's "response completed" lines (start = end - duration); ${lading[0]?.blobPuts ?? 0} blobs per push. ` +
        'ladingd sends each blob in one PUT, at most 5 at once (--max-concurrent-uploads); skopeo and Docker PATCH the bytes, then PUT the digest.',
    },
    {
      ...info,
      measure: 'daemon RSS during the push (peak)',
      lading: fmt.mb(Math.max(...lading.map((r) => r.rssPeak))),
      baseline: `${fmt.mb(median(lading.map((r) => r.rssBefore)))} before the push`,
      ratio: '—',
      note: 'Sampled every 25 ms from /proc/PID/status; the highest over all rounds. One daemon for all rounds, the image loaded before the first.',
    },
  );
  return out;
}

/** The archive (an OCI layout tar) unpacked into `dir`, and its one manifest. */
async function unpackLayout(archive: BigArchive, dir: string): Promise<Layout> {
  mkdirSync(dir, { recursive: true });
  const res = await run('tar', ['-xf', archive.file, '-C', dir], { timeoutMs: TAR_TIMEOUT_MS });
  if (res.code !== 0) throw new Error(`tar -xf ${archive.file} exited ${res.code}: ${res.stderr.trim()}`);
  const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = index.manifests[0]?.digest;
  if (!manifest) throw new Error(`${archive.file}: no manifest in index.json`);
  const doc = JSON.parse(readFileSync(blobFile(dir, manifest), 'utf8')) as { layers: unknown[] };
  return { dir, manifest, blobs: doc.layers.length + 1 };
}

function blobFile(dir: string, digest: string): string {
  return path.join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
}

/**
 * The layout as a docker-archive (Docker 20.10 loads no OCI layout): its `manifest.json` written
 * beside the blobs, and the two streamed as a tar.
 */
function dockerArchive(layout: Layout): Readable {
  const manifest = JSON.parse(readFileSync(blobFile(layout.dir, layout.manifest), 'utf8')) as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  const entry = (digest: string): string => `blobs/sha256/${digest.slice('sha256:'.length)}`;
  const docker = [{ Config: entry(manifest.config.digest), RepoTags: [BIG_IMAGE], Layers: manifest.layers.map((l) => entry(l.digest)) }];
  writeFileSync(path.join(layout.dir, 'manifest.json'), JSON.stringify(docker));
  const tar = spawn('tar', ['-C', layout.dir, '-cf', '-', 'manifest.json', 'blobs'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return tar.stdout;
}

async function loaded(who: string, load: Promise<{ status: number; text: string }>): Promise<void> {
  const res = await load;
  if (res.status !== 200 || !res.text.includes(`Loaded image: ${BIG_IMAGE}`)) throw new Error(`${who}: load: HTTP ${res.status} ${res.text.slice(0, 500)}`);
}

/** `docker tag` of the loaded image as `ref` (untimed). */
async function tag(socket: string, ref: string): Promise<void> {
  const colon = ref.lastIndexOf(':');
  const query = `repo=${encodeURIComponent(ref.slice(0, colon))}&tag=${encodeURIComponent(ref.slice(colon + 1))}`;
  const res = await request(socket, `${API}/images/${BIG_IMAGE}/tag?${query}`, { method: 'POST' });
  if (res.status !== 201) throw new Error(`tag ${ref}: HTTP ${res.status} ${res.text}`);
}

/** As the docker CLI sends it: the name unescaped, the tag in the query. */
function pushPath(ref: string): string {
  const colon = ref.lastIndexOf(':');
  return `${API}/images/${ref.slice(0, colon)}/push?tag=${encodeURIComponent(ref.slice(colon + 1))}`;
}

/** The push ended with its digest line, uploaded every blob (nothing there already, nothing mounted). */
function checkPush(who: string, a: StreamAnswer, digest?: string): void {
  const reused = [...a.statuses.keys()].filter((s) => s === 'Layer already exists' || s.startsWith('Mounted from'));
  const done = new RegExp(`\\b${TAG}: digest: ${digest ?? 'sha256:[0-9a-f]{64}'} size: \\d+`);
  if (a.status !== 200 || a.tail.includes('"errorDetail"') || !done.test(a.tail) || reused.length > 0) {
    throw new Error(`${who}: push: HTTP ${a.status}${reused.length > 0 ? ` (${reused.join(', ')})` : ''} ${a.tail.slice(-1000)}`);
  }
}
