// An external program timed as a baseline, with its CPU time from /proc while it runs.
import { spawn } from 'node:child_process';
import { cpuSeconds } from './procfs.js';

/**
 * Runs a program to completion, timing it and following its CPU time (sampled every 50 ms until
 * it exits, so the last 50 ms may be missing); throws unless it exits 0.
 */
export function timedRun(cmd: string, args: string[]): Promise<{ ms: number; cpu: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr = (stderr + t).slice(-4096)));
    let cpu = Number.NaN;
    const sample = (): void => {
      const now = child.pid === undefined ? Number.NaN : cpuSeconds(child.pid);
      if (Number.isFinite(now)) cpu = now;
    };
    const timer = setInterval(sample, 50);
    child.on('error', (err) => {
      clearInterval(timer);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      const ms = performance.now() - t0;
      clearInterval(timer);
      if (code === 0) resolve({ ms, cpu });
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code ?? signal}: ${stderr.trim()}`));
    });
  });
}
