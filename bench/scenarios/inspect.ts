// Inspect throughput: ladingd vs a bare node server sending the very same response, and vs Docker 20.10.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { request } from '../../test/support/daemon.js';
import { Dockerd, DockerdUnavailable } from '../../test/support/dockerd.js';
import { dockerArchive } from '../../test/support/images.js';
import { tempDir } from '../../test/support/paths.js';
import { richImage } from '../../test/oracle/rich-image.js';
import { BareServer, replayHeaders } from '../lib/bare-server.js';
import type { LoadResult } from '../lib/http-load.js';
import { startLadingd, type BenchDaemon } from '../lib/ladingd.js';
import { childPids } from '../lib/procfs.js';
import { fmt, met, unmeasured, type Row } from '../lib/report.js';
import { interleaved, pairedRatio } from '../lib/rounds.js';
import { median } from '../lib/stats.js';
import { API, inspectPath, type Bench } from './bench.js';

type Arm = 'ladingd' | 'bare' | 'dockerd 20.10' | 'ladingd 1.55' | 'bare 1.55';

export function describeRun(r: LoadResult): string {
  const errors = r.errors ? `, ${r.errors} errors` : '';
  return `${fmt.rps(r.rps)} p99 ${fmt.ms(r.p99)} ${fmt.us(r.serverCpuPerRequest)}/req client ${r.clientCpu.toFixed(2)} core${errors}`;
}

export async function inspectScenario(b: Bench): Promise<Row[]> {
  const scenario = 'inspect, 16 in flight';
  const fx = await richImage();
  const archive = readFileSync(await dockerArchive(fx));
  const urlPath = inspectPath(fx.familiar);
  const load = { method: 'POST', body: archive, headers: { 'Content-Type': 'application/x-tar' }, timeoutMs: 120_000 };

  let lading: BenchDaemon | undefined;
  let bare: BareServer | undefined;
  let docker: Dockerd | undefined;
  const dataRoot = path.join(tempDir('bench-inspect'), 'data');
  const bareSocket = path.join(tempDir('bench-bare'), 's');
  try {
    lading = await startLadingd(dataRoot);
    const loaded = await request(lading.socket, `${API}/images/load`, load);
    if (loaded.status !== 200) throw new Error(`ladingd: load: HTTP ${loaded.status} ${loaded.text}`);
    const reference = await request(lading.socket, urlPath);
    if (reference.status !== 200) throw new Error(`ladingd: GET ${urlPath}: HTTP ${reference.status} ${reference.text}`);
    const bareHeaders = replayHeaders(reference.headers);
    bare = await BareServer.start(bareSocket, bareHeaders, reference.body);
    // Docker 29's shape (API 1.55: Identity, no GraphDriver), held to the same target.
    const path155 = urlPath.replace(API, '/v1.55');
    const reference155 = await request(lading.socket, path155);
    if (reference155.status !== 200) throw new Error(`ladingd: GET ${path155}: HTTP ${reference155.status} ${reference155.text}`);
    const bare155Headers = replayHeaders(reference155.headers);

    let dockerSkip: string | undefined;
    let dockerPid: number | undefined;
    try {
      b.log('starting dockerd 20.10');
      docker = await Dockerd.start();
      dockerPid = childPids(docker.socket)[0];
      const res = await docker.request(`${API}/images/load`, load);
      if (res.status !== 200) throw new Error(`dockerd: load: HTTP ${res.status} ${res.text}`);
      const check = await docker.request(urlPath);
      if (check.status !== 200) throw new Error(`dockerd: GET ${urlPath}: HTTP ${check.status} ${check.text}`);
    } catch (err) {
      if (!(err instanceof DockerdUnavailable)) throw err;
      dockerSkip = err.message;
      b.log(`dockerd 20.10 column skipped: ${dockerSkip}`);
    }

    const requests = [{ label: 'inspect', path: urlPath }];
    const requests155 = [{ label: 'inspect 1.55', path: path155 }];
    // Each round gets a new ladingd (on the same store) and a new bare server: how fast one node
    // process serves varies from one start to the next by up to 1.5x (seen here, for both), which one
    // process per side would freeze into the whole run's ratio. Docker is not node, and slow to start.
    type Server = { socket: string; pid: number | undefined };
    const startLading = async (): Promise<Server> => {
      await lading?.daemon.stop();
      lading = undefined;
      lading = await startLadingd(dataRoot);
      return { socket: lading.socket, pid: lading.pid };
    };
    const startBare = (headers: typeof bareHeaders, body: Buffer) => async (): Promise<Server> => {
      await bare?.stop();
      bare = undefined;
      bare = await BareServer.start(bareSocket, headers, body);
      return { socket: bare.socket, pid: bare.pid };
    };
    const servers: Record<string, { start: () => Promise<Server>; requests: typeof requests }> = {
      ladingd: { start: startLading, requests },
      bare: { start: startBare(bareHeaders, reference.body), requests },
      'ladingd 1.55': { start: startLading, requests: requests155 },
      'bare 1.55': { start: startBare(bare155Headers, reference155.body), requests: requests155 },
      ...(docker ? { 'dockerd 20.10': { start: async () => ({ socket: docker!.socket, pid: dockerPid }), requests } } : {}),
    };
    const arms: Record<string, () => Promise<LoadResult>> = {};
    for (const [arm, server] of Object.entries(servers)) {
      arms[arm] = async () => {
        const { socket, pid } = await server.start();
        return b.client.run(b.job(socket, server.requests, pid));
      };
    }
    b.log(`inspect ${urlPath} (${reference.body.length} bytes): ${Object.keys(servers).join(', ')}`);
    const runs = await interleaved(b.rounds, arms, b.log, (_, r) => describeRun(r), { warmupRound: true });

    const m = (arm: Arm, f: (r: LoadResult) => number): number => median((runs[arm] ?? []).map(f));
    const ratio = (arm: Arm, base: Arm, f: (r: LoadResult) => number): number => pairedRatio(runs[arm] ?? [], runs[base] ?? [], f);
    const rps = (r: LoadResult): number => r.rps;
    const p99 = (r: LoadResult): number => r.p99;
    const cpu = (r: LoadResult): number => r.serverCpuPerRequest;
    const errors = (runs.ladingd ?? []).reduce((n, r) => n + r.errors, 0);
    const firstError = (runs.ladingd ?? []).find((r) => r.firstError)?.firstError;
    const maxClientCpu = Math.max(...Object.values(runs).flat().map((r) => r.clientCpu));
    const rows: Row[] = [
      {
        scenario,
        measure: 'throughput vs bare node server',
        lading: fmt.rps(m('ladingd', rps)),
        baseline: fmt.rps(m('bare', rps)),
        ratio: fmt.ratio(ratio('ladingd', 'bare', rps)),
        target: '>= 0.8x',
        met: met(ratio('ladingd', 'bare', rps) >= 0.8 && errors === 0),
        ...(errors ? { note: `ladingd answered ${errors} requests with errors: ${firstError}` } : {}),
      },
      {
        scenario,
        measure: 'p99 latency vs bare node server',
        lading: fmt.ms(m('ladingd', p99)),
        baseline: fmt.ms(m('bare', p99)),
        ratio: fmt.ratio(ratio('ladingd', 'bare', p99)),
        target: '<= 2x',
        met: met(ratio('ladingd', 'bare', p99) <= 2),
      },
      {
        scenario,
        measure: 'server CPU per request vs bare node server',
        lading: fmt.us(m('ladingd', cpu)),
        baseline: fmt.us(m('bare', cpu)),
        ratio: fmt.ratio(ratio('ladingd', 'bare', cpu)),
        target: '(supporting)',
        met: 'info',
        note:
          'CPU time of the server process over the measured window (/proc/PID/stat), per answered request: ' +
          `steadier than rates on a shared machine. The client used at most ${maxClientCpu.toFixed(2)} of a core.`,
      },
    ];
    const ratio155 = ratio('ladingd 1.55', 'bare 1.55', rps);
    rows.push({
      scenario,
      measure: 'throughput at API 1.55 vs bare node server',
      lading: fmt.rps(m('ladingd 1.55', rps)),
      baseline: fmt.rps(m('bare 1.55', rps)),
      ratio: fmt.ratio(ratio155),
      target: '>= 0.8x',
      met: met(ratio155 >= 0.8),
      note: `Docker 29's document (${reference155.body.length} bytes, Identity, no GraphDriver), each side serving it.`,
    });
    if (docker) {
      rows.push({
        scenario,
        measure: 'throughput vs Docker 20.10',
        lading: fmt.rps(m('ladingd', rps)),
        baseline: fmt.rps(m('dockerd 20.10', rps)),
        ratio: fmt.ratio(ratio('ladingd', 'dockerd 20.10', rps)),
        target: '>= 2.5x',
        met: met(ratio('ladingd', 'dockerd 20.10', rps) >= 2.5),
        note: `dockerd 20.10 (Debian's docker.io, vfs) used ${fmt.us(m('dockerd 20.10', cpu))} of CPU per request.`,
      });
    } else {
      rows.push(unmeasured(scenario, 'throughput vs Docker 20.10', '>= 2.5x', 'skipped', `dockerd unavailable: ${dockerSkip}`));
    }
    return rows;
  } finally {
    await docker?.stop().catch((err: unknown) => b.log(`dockerd stop: ${String(err)}`));
    await bare?.stop();
    await lading?.daemon.stop();
  }
}
