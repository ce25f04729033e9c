// What the registry transfer scenarios (pull, push) share: the bench's big image and the tools they
// need, Docker 20.10 for the third column, and how a round's run is logged.
import { Dockerd, DockerdUnavailable } from '../../test/support/dockerd.js';
import { bigArchive, type BigArchive } from '../lib/big-archive.js';
import type { WorkCost } from '../lib/ladingd.js';
import { missingRegistryTools } from '../lib/registry-tools.js';
import { fmt, unmeasured, type Row } from '../lib/report.js';
import { median } from '../lib/stats.js';
import type { Bench } from './bench.js';

export interface TransferImage {
  archive: BigArchive;
  sizeMB: number;
  /** The compressed layers' bytes: what goes over the wire. */
  imageBytes: number;
  /** The scenario's name in the table, e.g. `pull, 1,008 MB image`. */
  scenario: string;
}

/**
 * The ~1 GB image (100 MB with --quick) for `what`, or, when the registry tools are missing, the
 * row of `measure` that says so.
 */
export async function transferImage(b: Bench, what: 'pull' | 'push', measure: string, target: string): Promise<TransferImage | Row> {
  const sizeMB = b.quick ? 100 : 1_000;
  const archive = await bigArchive(b.cacheDir, sizeMB, b.log);
  const imageBytes = archive.layers.reduce((n, l) => n + l.size, 0);
  const scenario = `${what}, ${fmt.mb(imageBytes)} image`;
  const missing = await missingRegistryTools();
  if (missing) {
    b.log(`${what} skipped: ${missing}`);
    return unmeasured(scenario, measure, target, 'skipped', `skipped: ${missing}`);
  }
  return { archive, sizeMB, imageBytes, scenario };
}

/** Docker 20.10 started privately, or why its column is skipped. */
export async function dockerdOrSkip(b: Bench): Promise<Dockerd | { skipped: string }> {
  try {
    b.log('starting dockerd 20.10');
    return await Dockerd.start();
  } catch (err) {
    if (!(err instanceof DockerdUnavailable)) throw err;
    b.log(`dockerd 20.10 column skipped: ${err.message}`);
    return { skipped: err.message };
  }
}

/** A round's run in the log: rate and time, CPU where known, ladingd's RSS. */
export function describeCost(imageBytes: number, arm: string, r: WorkCost): string[] {
  const parts = [`${fmt.mbps((imageBytes * 1000) / r.ms)} (${(r.ms / 1000).toFixed(1)} s)`];
  if (Number.isFinite(r.cpu)) parts.push(`CPU ${r.cpu.toFixed(1)} s`);
  if (arm === 'ladingd') parts.push(`RSS ${fmt.mb(r.rssBefore)} → peak ${fmt.mb(r.rssPeak)}`);
  return parts;
}

/** A table cell for an arm's runs: the median time, and the rate it makes for `imageBytes`. */
export function medianTime(imageBytes: number, runs: readonly WorkCost[]): string {
  const ms = median(runs.map((r) => r.ms));
  return `${fmt.ms(ms)} (${fmt.mbps((imageBytes * 1000) / ms)})`;
}

/** Stops Docker 20.10 if it was started; a failure to stop is logged (its first line), not thrown. */
export async function stopDockerd(b: Bench, docker: Dockerd | undefined): Promise<void> {
  await docker?.stop().catch((err: unknown) => b.log(`dockerd stop: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`));
}
