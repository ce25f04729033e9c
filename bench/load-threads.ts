// `node dist/bench/load-threads.js ARCHIVE [--progress] [--rounds N] [--profile DIR]`: loads ARCHIVE into a fresh
// ladingd per round and prints the wall time, the daemon's CPU and each thread's CPU (from
// /proc/PID/task), so that a load can be profiled by hand without the whole bench. `--progress`
// loads with `quiet=0` (the `Loading layer` lines), to measure what they cost against the quiet load.
import os from 'node:os';
import { onFreshLadingd, profileInto } from './lib/ladingd.js';
import { threadCpuSeconds } from './lib/procfs.js';
import { postFile } from './lib/upload.js';
import { API } from './scenarios/bench.js';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const file = args.find((a, i) => !a.startsWith('--') && !/^\d+$/.test(a) && args[i - 1] !== '--profile');
  if (!file) throw new Error('usage: load-threads ARCHIVE [--progress] [--rounds N]');
  const progress = args.includes('--progress');
  const roundsAt = args.indexOf('--rounds');
  const rounds = roundsAt >= 0 ? Number(args[roundsAt + 1]) : 1;
  const profileAt = args.indexOf('--profile');
  if (profileAt >= 0) profileInto(args[profileAt + 1]!);
  for (let round = 0; round < rounds; round++) {
    const load = os.loadavg()[0]!.toFixed(1);
    let threads = new Map<number, number>();
    const run = await onFreshLadingd('bench-load-threads', async (d) => {
      const before = threadCpuSeconds(d.pid);
      const res = await postFile(d.socket, `${API}/images/load?quiet=${progress ? 0 : 1}`, file);
      const after = threadCpuSeconds(d.pid);
      if (res.status !== 200 || !res.text.includes('Loaded image') || res.text.includes('errorDetail')) {
        throw new Error(`load: HTTP ${res.status} ${res.text.slice(0, 300)}`);
      }
      for (const [tid, cpu] of after) threads.set(tid, cpu - (before.get(tid) ?? 0));
      threads.set(-1, d.pid);
      return res.text.length;
    });
    const pid = threads.get(-1)!;
    threads.delete(-1);
    threads = new Map([...threads].filter(([, cpu]) => cpu >= 0.05).sort((a, b) => a[0] - b[0]));
    const perThread = [...threads].map(([tid, cpu]) => `${tid === pid ? 'main' : `+${tid - pid}`} ${cpu.toFixed(2)}`).join(', ');
    console.log(
      `${progress ? 'progress' : 'quiet'}: ${(run.ms / 1000).toFixed(2)} s, CPU ${run.cpu.toFixed(2)} s, ` +
        `RSS ${(run.rssBefore / 1e6).toFixed(0)} -> ${(run.rssPeak / 1e6).toFixed(0)} MB, ${run.result} bytes answered, load average ${load}; ` +
        `threads (tid - pid: CPU s): ${perThread}`,
    );
  }
}

await main();
