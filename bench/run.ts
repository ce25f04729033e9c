// `npm run bench [-- --quick] [--only inspect,scale,load,load-zstd,concurrent,pull,pull-zstd,push,layer-files,cluster] [--profile DIR] [--cache DIR]`
// Runs every scenario, each against a baseline measured in the same run, interleaved round by round,
// and prints a Markdown table of medians and ratios. Timings never fail the run: they are reported.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../test/support/paths.js';
import { LoadClient } from './lib/http-load.js';
import { profileInto } from './lib/ladingd.js';
import { table, unmeasured, type Row } from './lib/report.js';
import { clusterScenario } from './scenarios/cluster.js';
import { concurrentScenario } from './scenarios/concurrent.js';
import { IN_FLIGHT, type Bench } from './scenarios/bench.js';
import { inspectScenario } from './scenarios/inspect.js';
import { loadScenario } from './scenarios/load.js';
import { loadZstdScenario } from './scenarios/load-zstd.js';
import { pullScenario, pullZstdScenario } from './scenarios/pull.js';
import { pushScenario } from './scenarios/push.js';
import { scaleScenario } from './scenarios/scale.js';
import { layerFilesScenario } from './scenarios/layer-files.js';

const SCENARIOS: Record<string, (b: Bench) => Promise<Row[]>> = {
  inspect: inspectScenario,
  scale: scaleScenario,
  load: loadScenario,
  concurrent: concurrentScenario,
  pull: pullScenario,
  'pull-zstd': pullZstdScenario,
  'load-zstd': loadZstdScenario,
  push: pushScenario,
  'layer-files': layerFilesScenario,
  cluster: clusterScenario,
};

const USAGE = `usage: npm run bench -- [--quick] [--only NAME,...] [--profile DIR] [--cache DIR] [--layer-mb N]
  --quick      a smoke run of about a minute: 2 short rounds, 10,000 images, a 100 MB archive and image
  --only       scenarios to run, of: ${Object.keys(SCENARIOS).join(', ')}
  --profile    write a CPU profile of every ladingd started into DIR (see bench/profile-summary.ts)
  --cache      where generated stores and archives are kept (default $LADING_BENCH_CACHE or $TMPDIR/lading-bench-cache)
  --layer-mb   unpacked size of layer-files' layer in MB (default 200, 50 with --quick; the issue's 1 GB: 1000)
`;

interface Options {
  quick: boolean;
  only: string[];
  profile?: string;
  cache: string;
  layerMB?: number;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = {
    quick: false,
    only: Object.keys(SCENARIOS),
    cache: process.env.LADING_BENCH_CACHE ?? path.join(os.tmpdir(), 'lading-bench-cache'),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === '--quick') opts.quick = true;
    else if (arg === '--only') opts.only = value().split(',');
    else if (arg === '--profile') opts.profile = path.resolve(value());
    else if (arg === '--cache') opts.cache = path.resolve(value());
    else if (arg === '--layer-mb') {
      const mb = Number(value());
      if (!Number.isInteger(mb) || mb <= 0) throw new Error(`--layer-mb wants a whole number of megabytes\n${USAGE}`);
      opts.layerMB = mb;
    }
    else if (arg === '-h' || arg === '--help') {
      process.stdout.write(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  for (const name of opts.only) if (!(name in SCENARIOS)) throw new Error(`unknown scenario ${name}\n${USAGE}`);
  return opts;
}

function machine(): string {
  const cpus = os.cpus();
  const commit = (() => {
    try {
      const rev = execFileSync('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
      const dirty = execFileSync('git', ['-C', repoRoot, 'status', '--porcelain', '--untracked-files=no', 'src'], { encoding: 'utf8' }).trim();
      return dirty ? `${rev} + uncommitted changes in src/` : rev;
    } catch {
      return 'unknown';
    }
  })();
  return [
    `${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM`,
    `load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`,
    `node ${process.version}, ${os.type()} ${os.release()}, commit ${commit}`,
  ].join('; ');
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  mkdirSync(opts.cache, { recursive: true });
  if (opts.profile) {
    mkdirSync(opts.profile, { recursive: true });
    profileInto(opts.profile);
  }
  const started = Date.now();
  const log = (msg: string): void => {
    process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
  };
  const client = LoadClient.start();
  // ladingd takes a few seconds of load to reach its steady state (the JIT, the heap): a short
  // measure, but never a short warm-up.
  const warmupMs = 1_000;
  const durationMs = opts.quick ? 1_000 : 3_000;
  const bench: Bench = {
    quick: opts.quick,
    cacheDir: opts.cache,
    client,
    rounds: opts.quick ? 2 : 5,
    ...(opts.layerMB !== undefined ? { layerMB: opts.layerMB } : {}),
    job: (socket, requests, serverPid) => ({
      socket,
      requests,
      concurrency: IN_FLIGHT,
      warmupMs,
      durationMs,
      ...(serverPid !== undefined ? { serverPid } : {}),
    }),
    log,
  };
  const before = machine();
  log(`${opts.quick ? 'quick' : 'full'} run: ${opts.only.join(', ')}; ${before}`);

  const rows: Row[] = [];
  try {
    for (const name of opts.only) {
      log(`== ${name}`);
      try {
        rows.push(...(await (SCENARIOS[name] as (b: Bench) => Promise<Row[]>)(bench)));
      } catch (err) {
        log(`${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        const message = (err instanceof Error ? err.message : String(err)).split('\n')[0];
        rows.push(unmeasured(name, '(scenario failed)', '—', 'no', `${name} failed: ${message}`));
      }
    }
  } finally {
    client.close();
  }

  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  process.stdout.write(
    [
      '',
      `Lading bench, ${opts.quick ? 'quick' : 'full'} run, ${new Date().toISOString()}, ${minutes} min`,
      `machine: ${before}`,
      `at the end: load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`,
      '',
      table(rows),
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
