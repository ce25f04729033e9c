// Replicas (issue 14): ladingd on PostgreSQL and a docker-registry blob tier against ladingd embedded
// (SQLite and a local disk), in the same run, round by round: inspect throughput (the target: at
// least 0.8x), load and pull times (informative), and two replicas against one. PostgreSQL is the
// tests' (test/support/postgres.ts: initdb in a temp dir, on loopback), started for this scenario.
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { request } from '../../test/support/daemon.js';
import { dockerArchive } from '../../test/support/images.js';
import { tempDir } from '../../test/support/paths.js';
import { postgresMissing, startPostgres, type PostgresCluster } from '../../test/support/postgres.js';
import { Registry } from '../../test/support/registry.js';
import { richImage } from '../../test/oracle/rich-image.js';
import { bigArchive, BIG_IMAGE, type BigArchive } from '../lib/big-archive.js';
import { LoadClient, type LoadResult } from '../lib/http-load.js';
import { measured, startLadingd, type BenchDaemon, type WorkCost } from '../lib/ladingd.js';
import { postForStream } from '../lib/progress-stream.js';
import { missingRegistryTools } from '../lib/registry-tools.js';
import { fmt, met, unmeasured, type Row } from '../lib/report.js';
import { interleaved, pairedRatio } from '../lib/rounds.js';
import { median } from '../lib/stats.js';
import { postFile } from '../lib/upload.js';
import { API, IN_FLIGHT, inspectPath, type Bench } from './bench.js';
import { cachedRegistry, checkPull, REPOS } from './pull.js';

const SCENARIO = 'cluster: a replica on PostgreSQL + registry';
const BLOB_REPOSITORY = 'lading/blobs';

/** One inspect arm's result: the requests of every client summed, CPU per request over every server. */
interface Throughput {
  rps: number;
  p99: number;
  serverCpuPerRequest: number;
  errors: number;
  /** PostgreSQL transactions (all sessions, this database) per answered request; NaN for the embedded arm. */
  xactsPerRequest: number;
  /** The same over the wall time between the two counts (its warm-up included). */
  xactsPerSecond: number;
}

/** A load or pull, and the PostgreSQL transactions meanwhile (NaN embedded). */
interface Transfer extends WorkCost {
  xacts: number;
}

/** A database and blob tier of their own: what a fresh cluster starts from. */
interface Tier {
  url: string;
  registry: Registry;
  args: string[];
}

async function newTier(pg: PostgresCluster): Promise<Tier> {
  const url = await pg.createDatabase();
  const registry = await Registry.start();
  const args = ['--metadata', url, '--blob-store', `registry://${registry.host}/${BLOB_REPOSITORY}`, '--blob-cache-size', '2GiB'];
  return { url, registry, args };
}

/** Committed and rolled back transactions of the database so far (PostgreSQL flushes them within a second). */
async function transactions(url: string): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await new Promise((r) => setTimeout(r, 1_100));
    const [row] = await sql<{ n: string }[]>`SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()`;
    return Number(row?.n);
  } finally {
    await sql.end();
  }
}

export async function clusterScenario(b: Bench): Promise<Row[]> {
  const missing = postgresMissing() ?? (await missingRegistryTools());
  if (missing) return [unmeasured(SCENARIO, 'inspect throughput vs embedded', '>= 0.8x', 'skipped', missing)];
  const pg = await startPostgres();
  const second = LoadClient.start();
  const tiers: Tier[] = [];
  const running: BenchDaemon[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(running.splice(0).map((d) => d.daemon.stop()));
  };
  try {
    const inspect = await inspectRows(b, pg, second, tiers, running, stopAll);
    const transfer = await transferRows(b, pg, running, stopAll);
    return [...inspect, ...transfer];
  } finally {
    second.close();
    await stopAll();
    await Promise.all(tiers.map((t) => t.registry.stop()));
    await pg.remove();
  }
}

async function inspectRows(
  b: Bench,
  pg: PostgresCluster,
  second: LoadClient,
  tiers: Tier[],
  running: BenchDaemon[],
  stopAll: () => Promise<void>,
): Promise<Row[]> {
  const fx = await richImage();
  const archive = readFileSync(await dockerArchive(fx));
  const urlPath = inspectPath(fx.familiar);
  const requests = [{ label: 'inspect', path: urlPath }];
  const load = async (d: BenchDaemon): Promise<void> => {
    const res = await request(d.socket, `${API}/images/load`, { method: 'POST', body: archive, headers: { 'Content-Type': 'application/x-tar' }, timeoutMs: 120_000 });
    if (res.status !== 200) throw new Error(`load: HTTP ${res.status} ${res.text}`);
  };
  const embeddedRoot = path.join(tempDir('bench-cluster-embedded'), 'data');
  const replicaRoots = [path.join(tempDir('bench-cluster-r1'), 'data'), path.join(tempDir('bench-cluster-r2'), 'data')];
  const tier = await newTier(pg);
  tiers.push(tier);
  const start = async (root: string, args: readonly string[] = []): Promise<BenchDaemon> => {
    const d = await startLadingd(root, args);
    running.push(d);
    return d;
  };
  await load(await start(embeddedRoot));
  await load(await start(replicaRoots[0] as string, tier.args));
  await stopAll();

  // Every arm on servers started for it (as the inspect scenario does: one node process's speed
  // varies from one start to the next); the half-and-half arms with two clients of 8 connections.
  const whole = async (d: BenchDaemon): Promise<LoadResult> => b.client.run(b.job(d.socket, requests, d.pid));
  const halves = async (ds: [BenchDaemon, BenchDaemon]): Promise<LoadResult[]> => {
    const sameServer = ds[0] === ds[1];
    const job = (d: BenchDaemon, measureCpu: boolean) => ({ ...b.job(d.socket, requests, measureCpu ? d.pid : undefined), concurrency: IN_FLIGHT / 2 });
    return Promise.all([b.client.run(job(ds[0], true)), second.run(job(ds[1], !sameServer))]);
  };
  const sum = (rs: LoadResult[], xacts: number): Throughput => {
    const count = rs.reduce((n, r) => n + r.count, 0);
    const cpu = rs.reduce((s, r) => s + (Number.isNaN(r.serverCpuPerRequest) ? 0 : r.serverCpuPerRequest * r.count), 0);
    return {
      rps: rs.reduce((n, r) => n + r.rps, 0),
      p99: Math.max(...rs.map((r) => r.p99)),
      serverCpuPerRequest: cpu / count,
      errors: rs.reduce((n, r) => n + r.errors, 0),
      xactsPerRequest: xacts / count,
      xactsPerSecond: Number.NaN,
    };
  };
  const inCluster = async (work: () => Promise<LoadResult[]>): Promise<Throughput> => {
    const x0 = await transactions(tier.url);
    const t0 = performance.now();
    const rs = await work();
    const xacts = (await transactions(tier.url)) - x0;
    return { ...sum(rs, xacts), xactsPerSecond: (xacts * 1000) / (performance.now() - t0) };
  };
  const arms = {
    embedded: async (): Promise<Throughput> => {
      const d = await start(embeddedRoot);
      const r = sum([await whole(d)], Number.NaN);
      await stopAll();
      return r;
    },
    replica: async (): Promise<Throughput> => {
      const d = await start(replicaRoots[0] as string, tier.args);
      const r = await inCluster(async () => [await whole(d)]);
      await stopAll();
      return r;
    },
    'one replica, 2 clients': async (): Promise<Throughput> => {
      const d = await start(replicaRoots[0] as string, tier.args);
      const r = await inCluster(() => halves([d, d]));
      await stopAll();
      return r;
    },
    'two replicas, 2 clients': async (): Promise<Throughput> => {
      const ds = await Promise.all(replicaRoots.map((root) => start(root, tier.args)));
      const r = await inCluster(() => halves(ds as [BenchDaemon, BenchDaemon]));
      await stopAll();
      return r;
    },
  };
  b.log(`cluster inspect ${urlPath}: ${Object.keys(arms).join(', ')}`);
  const runs = await interleaved(b.rounds, arms, b.log, (_, r) => describe(r), { warmupRound: true });
  type Arm = keyof typeof arms;
  const m = (arm: Arm, f: (r: Throughput) => number): number => median(runs[arm].map(f));
  const ratio = (arm: Arm, base: Arm, f: (r: Throughput) => number): number => pairedRatio(runs[arm], runs[base], f);
  const rps = (r: Throughput): number => r.rps;
  const cpu = (r: Throughput): number => r.serverCpuPerRequest;
  const errors = Object.values(runs).flat().reduce((n, r) => n + r.errors, 0);
  const vsEmbedded = ratio('replica', 'embedded', rps);
  return [
    {
      scenario: SCENARIO,
      measure: 'inspect throughput vs embedded, 16 in flight',
      lading: fmt.rps(m('replica', rps)),
      baseline: `${fmt.rps(m('embedded', rps))} embedded`,
      ratio: fmt.ratio(vsEmbedded),
      target: '>= 0.8x',
      met: met(vsEmbedded >= 0.8 && errors === 0),
      note:
        `Server CPU per request ${fmt.us(m('replica', cpu))} on the replica, ${fmt.us(m('embedded', cpu))} embedded; ` +
        `${m('replica', (r) => r.xactsPerRequest).toFixed(4)} PostgreSQL transactions per inspect, ${m('replica', (r) => r.xactsPerSecond).toFixed(1)} a second ` +
        `(all sessions of the database over the window, the replica's lease heartbeats and event reads included: none is an inspect's)` +
        (errors ? `; ${errors} requests answered with errors` : ''),
    },
    {
      scenario: SCENARIO,
      measure: 'inspect server CPU per request vs embedded',
      lading: fmt.us(m('replica', cpu)),
      baseline: `${fmt.us(m('embedded', cpu))} embedded`,
      ratio: fmt.ratio(ratio('replica', 'embedded', cpu)),
      target: '(supporting)',
      met: 'info',
    },
    {
      scenario: SCENARIO,
      measure: 'inspect throughput, two replicas vs one (2 clients × 8 in flight)',
      lading: fmt.rps(m('two replicas, 2 clients', rps)),
      baseline: `${fmt.rps(m('one replica, 2 clients', rps))} one replica`,
      ratio: fmt.ratio(ratio('two replicas, 2 clients', 'one replica, 2 clients', rps)),
      target: '(informative)',
      met: 'info',
      note:
        `One machine of ${os.cpus().length} cores runs both clients, every replica and PostgreSQL; ` +
        `server CPU per request ${fmt.us(m('two replicas, 2 clients', cpu))} with two replicas, ${fmt.us(m('one replica, 2 clients', cpu))} with one.`,
    },
  ];
}

function describe(r: Throughput): string {
  const xacts = Number.isNaN(r.xactsPerRequest) ? '' : ` ${r.xactsPerRequest.toFixed(4)} xact/req`;
  return `${fmt.rps(r.rps)} p99 ${fmt.ms(r.p99)} ${fmt.us(r.serverCpuPerRequest)}/req${xacts}${r.errors ? `, ${r.errors} errors` : ''}`;
}

/** Load and pull of the bench's big image (100 MB: informative ratios, not the load scenario's 1 GB) on a fresh replica and tier vs a fresh embedded daemon. */
async function transferRows(b: Bench, pg: PostgresCluster, running: BenchDaemon[], stopAll: () => Promise<void>): Promise<Row[]> {
  const sizeMB = 100;
  const archive = await bigArchive(b.cacheDir, sizeMB, b.log);
  const source = await cachedRegistry(b, archive, sizeMB, 'gzip');
  try {
    return await transferRuns(b, pg, running, stopAll, archive, source);
  } finally {
    await source.stop();
  }
}

async function transferRuns(
  b: Bench,
  pg: PostgresCluster,
  running: BenchDaemon[],
  stopAll: () => Promise<void>,
  archive: BigArchive,
  source: Registry,
): Promise<Row[]> {
  const imageBytes = archive.layers.reduce((n, l) => n + l.size, 0);
  const createPath = `${API}/images/create?fromImage=${encodeURIComponent(source.ref(REPOS.gzip))}&tag=v1`;

  /** `work` on a daemon of a fresh data root, embedded or a replica of a fresh database and tier. */
  const fresh = async (cluster: boolean, work: (d: BenchDaemon) => Promise<void>): Promise<Transfer> => {
    const tier = cluster ? await newTier(pg) : undefined;
    const root = path.join(tempDir('bench-cluster-fresh'), 'data');
    try {
      const d = await startLadingd(root, tier?.args ?? []);
      running.push(d);
      const x0 = tier ? await transactions(tier.url) : Number.NaN;
      const { result: _, ...cost } = await measured(d, () => work(d));
      // What the database did meanwhile: the work's own transactions, and ~4 a second of heartbeats and event reads over it and the count's 1.1 s wait.
      return { ...cost, xacts: tier ? (await transactions(tier.url)) - x0 : Number.NaN };
    } finally {
      await stopAll();
      await tier?.registry.stop();
      rmSync(path.dirname(root), { recursive: true, force: true });
    }
  };
  const loadInto = async (d: BenchDaemon): Promise<void> => {
    const res = await postFile(d.socket, `${API}/images/load`, archive.file);
    if (res.status !== 200 || !res.text.includes(`Loaded image: ${BIG_IMAGE}`)) throw new Error(`load: HTTP ${res.status} ${res.text.slice(0, 500)}`);
  };
  const pullInto = async (d: BenchDaemon): Promise<void> => checkPull('ladingd', await postForStream(d.socket, createPath));
  const arms = {
    'load, embedded': () => fresh(false, loadInto),
    'load, replica': () => fresh(true, loadInto),
    'pull, embedded': () => fresh(false, pullInto),
    'pull, replica': () => fresh(true, pullInto),
  };
  b.log(`cluster load and pull: ${fmt.mb(archive.bytes)} archive, ${fmt.mb(imageBytes)} image in ${archive.layers.length} layers`);
  const runs = await interleaved(Math.min(b.rounds, 3), arms, b.log, (_, r) => `${fmt.ms(r.ms)} CPU ${r.cpu.toFixed(1)} s${Number.isNaN(r.xacts) ? '' : `, ${r.xacts} PostgreSQL transactions`}`);
  const ms = (r: WorkCost): number => r.ms;
  const row = (what: 'load' | 'pull', bytes: number): Row => {
    const replica = runs[`${what}, replica`];
    const embedded = runs[`${what}, embedded`];
    const time = (rs: WorkCost[]): number => median(rs.map(ms));
    return {
      scenario: SCENARIO,
      measure: `${what} throughput vs embedded, ${fmt.mb(bytes)}`,
      lading: fmt.mbps((bytes * 1000) / time(replica)),
      baseline: `${fmt.mbps((bytes * 1000) / time(embedded))} embedded`,
      // Rates: the embedded time over the replica's.
      ratio: fmt.ratio(pairedRatio(embedded, replica, ms)),
      target: '(informative)',
      met: 'info',
      note:
        `A fresh data root each round, and for the replica a fresh database and blob tier (docker-registry on loopback, its storage on the same disk): ` +
        `every blob (${fmt.mb(bytes)}) written to the tier over HTTP besides the replica's cache. Replica CPU ${median(replica.map((r) => r.cpu)).toFixed(1)} s, embedded ${median(embedded.map((r) => r.cpu)).toFixed(1)} s; ` +
        `${median(replica.map((r) => r.xacts))} PostgreSQL transactions in the database meanwhile (all sessions, heartbeats and event reads included).`,
    };
  };
  return [row('load', archive.bytes), row('pull', imageBytes)];
}
