// Replicas killed with SIGKILL at random moments under a mixed workload; see cluster-kill-harness.ts
// for what is checked after every kill and at the end.
//
//   LADING_CRASH_KILLS   kills in the run (default 10: the CI form); the long form is
//                        LADING_CRASH_KILLS=100 npm test -- cluster-crash
//   LADING_CRASH_SEED    the seed of the run (default: random, printed); set it to replay a run's plan
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { skipWithoutPostgres } from '../support/postgres.js';
import { runClusterKillHarness } from './cluster-kill-harness.js';
import { seedFromEnv } from './crash-workload.js';

const KILLS = Number(process.env.LADING_CRASH_KILLS ?? 10);
const LEASE_TTL_MS = 2000;

describe('crash safety of replicas on PostgreSQL and a registry', { skip: skipWithoutPostgres() }, () => {
  it(`survives ${KILLS} kill -9s of a random replica of three: acknowledged writes kept everywhere, ladingd check clean, the registry's GC keeps every held blob`, async (t) => {
    const seed = seedFromEnv();
    t.diagnostic(`LADING_CRASH_SEED=${seed} LADING_CRASH_KILLS=${KILLS}`);
    const verbose = process.env.LADING_CRASH_VERBOSE === '1';
    const report = await runClusterKillHarness({
      seed,
      kills: KILLS,
      leaseTtlMs: LEASE_TTL_MS,
      progress: (line) => {
        if (verbose) process.stderr.write(`${line}\n`);
      },
    });
    t.diagnostic(
      `${report.kills} kills in ${report.seconds.toFixed(1)} s; ${report.operations} operations, acknowledged ${JSON.stringify(report.acknowledged)}; ` +
        `${report.interrupted} cut by a kill; ` +
        `the registry's garbage-collect reclaimed ${report.registryReclaimed} blob(s)`,
    );
    assert.deepEqual(report.failures, [], `replay with LADING_CRASH_SEED=${seed}:\n${report.failures.join('\n')}`);
    assert.equal(report.kills, KILLS);
  });
});
