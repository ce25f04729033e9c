// ladingd killed with SIGKILL at random moments under a mix of load, tag, remove, prune and inspect;
// see kill-harness.ts for what is checked after every restart.
//
//   LADING_CRASH_KILLS   kills in the run (default 30: the CI form, about a minute and a half);
//                        the long form is LADING_CRASH_KILLS=200 npm test -- crash
//   LADING_CRASH_SEED    the seed of the run (default: random, printed); set it to replay a run's plan
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runKillHarness, seedFromEnv } from './kill-harness.js';

const KILLS = Number(process.env.LADING_CRASH_KILLS ?? 30);

describe('crash safety', () => {
  it(`survives ${KILLS} kill -9s: acknowledged writes kept, blobs intact, no leftovers, ladingd check clean`, async (t) => {
    const seed = seedFromEnv();
    t.diagnostic(`LADING_CRASH_SEED=${seed} LADING_CRASH_KILLS=${KILLS}`);
    const verbose = process.env.LADING_CRASH_VERBOSE === '1';
    const report = await runKillHarness({
      seed,
      kills: KILLS,
      progress: (line) => {
        if (verbose) process.stderr.write(`${line}\n`);
      },
    });
    for (const note of report.skipped) t.diagnostic(`skipped ${note}`);
    t.diagnostic(
      `${report.kills} kills in ${report.seconds.toFixed(1)} s; acknowledged ${JSON.stringify(report.acknowledged)}; ` +
        `${report.interrupted} operations cut by a kill`,
    );
    assert.deepEqual(report.failures, [], `replay with LADING_CRASH_SEED=${seed}:\n${report.failures.join('\n')}`);
    assert.equal(report.kills, KILLS);
  });
});
