// Soak: 16 clients mix inspect, list, tag, remove, load and pull against one ladingd for a bounded
// time. No answer may be a 5xx; the daemon's RSS and open file descriptors (from /proc) must stay
// under fixed bounds and must not grow from the first third of the run to the last; `ladingd check`
// must find nothing wrong at the end.
//
//   LADING_SOAK_SECONDS   length of the run (default 60: the CI form); the long form is
//                         LADING_SOAK_SECONDS=1800 npm test -- soak
//   LADING_SOAK_SEED      the seed of the clients' choices (default: random, printed)
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Daemon, type HttpResponse } from '../support/daemon.js';
import { run } from '../support/exec.js';
import { singlePlatformImage } from '../support/images.js';
import { repoRoot } from '../support/paths.js';
import { Registry } from '../support/registry.js';
import { buildArchives, NAMES, probe, Rng } from '../crash/kill-harness.js';

const SECONDS = Number(process.env.LADING_SOAK_SECONDS ?? 60);
const CLIENTS = 16;
const SAMPLE_MS = 500;
/** Fixed ceilings, far above what a healthy daemon with these small images uses. */
const MAX_RSS_BYTES = Number(process.env.LADING_SOAK_MAX_RSS_MB ?? 768) * 1024 * 1024;
const MAX_FDS = 512;
/** Growth allowed from the first third to the last: noise of the collector and the allocator. */
const RSS_GROWTH_FACTOR = 1.25;
const RSS_GROWTH_SLACK = 32 * 1024 * 1024;
const FD_GROWTH_SLACK = 16;

interface Sample {
  at: number;
  rss: number;
  fds: number;
}

function sampleOf(pid: number): Sample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? NaN);
  return { at: Date.now(), rss: kb * 1024, fds: readdirSync(`/proc/${pid}/fd`).length };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`;

type Kind = 'inspect' | 'list' | 'tag' | 'remove' | 'load' | 'pull';

describe('soak', { timeout: (SECONDS + 600) * 1000 }, () => {
  it(`${CLIENTS} clients for ${SECONDS} s: no 5xx, RSS and fds bounded and flat, ladingd check clean`, async (t) => {
    const seed = process.env.LADING_SOAK_SEED ? Number(process.env.LADING_SOAK_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
    t.diagnostic(`LADING_SOAK_SEED=${seed} LADING_SOAK_SECONDS=${SECONDS}`);
    const rng = new Rng(seed);
    const archives = await buildArchives(rng, 24);
    const daemon = await Daemon.start({ logLevel: 'info' });
    const pid = (daemon as unknown as { child: { pid?: number } }).child.pid;
    assert.ok(pid, 'the daemon has a pid');

    // Pull when the daemon offers it: a loopback registry (insecure by default) holding one small image.
    let registry: Registry | undefined;
    let pullRef: string | undefined;
    // A loopback name: a probe must never make the daemon resolve Docker Hub.
    const pullProbe = await daemon.request('/v1.51/images/create?fromImage=127.0.0.1:1/soak-probe&tag=x', { method: 'POST' });
    if (pullProbe.status === 404 && /page not found/.test(pullProbe.text)) {
      t.diagnostic('pull left out: POST /images/create answers 404 page not found');
    } else {
      registry = await Registry.start();
      await registry.push(await singlePlatformImage(), 'soak/single:v1');
      pullRef = registry.ref('soak/single');
    }

    const counts: Record<string, Record<string, number>> = {};
    const failures: string[] = [];
    const note = (kind: Kind, res: HttpResponse, allowed: number[]): void => {
      const byStatus = (counts[kind] ??= {});
      byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
      if (res.status >= 500 || !allowed.includes(res.status)) {
        failures.push(`${kind}: ${res.status} ${res.text.slice(0, 300)}`);
      } else if (kind === 'pull' && /"error(Detail)?"/.test(res.text)) {
        failures.push(`pull: an error in the stream: ${res.text.slice(-300)}`);
      }
    };
    // Operations whose route is not there yet are left out, with a note.
    const offered = await probe(daemon.socket);
    for (const k of ['list', 'tag', 'remove'] as const) {
      if (!offered.has(k)) t.diagnostic(`${k} left out: its route answers 404 page not found`);
    }
    const weights = (
      [
        ['inspect', 30],
        ['list', 15],
        ['tag', 15],
        ['remove', 15],
        ['load', 20],
        ['pull', 5],
      ] as Array<[Kind, number]>
    ).filter(([k]) => (k === 'pull' ? pullRef !== undefined : k === 'inspect' || k === 'load' || offered.has(k)));
    const total = weights.reduce((n, [, w]) => n + w, 0);
    const pick = (): Kind => {
      let r = rng.int(total);
      for (const [k, w] of weights) {
        if (r < w) return k;
        r -= w;
      }
      return 'inspect';
    };
    const call = (p: string, opts: Parameters<Daemon['request']>[1] = {}): Promise<HttpResponse> =>
      daemon.request(`/v1.51${p}`, { timeoutMs: 120_000, ...opts });

    const operate = async (kind: Kind): Promise<void> => {
      const name = rng.pick(NAMES);
      if (kind === 'inspect') note(kind, await call(`/images/${name}/json`), [200, 404]);
      else if (kind === 'list') note(kind, await call('/images/json'), [200]);
      else if (kind === 'tag') {
        const [repo, tag] = rng.pick(NAMES).split(':') as [string, string];
        note(kind, await call(`/images/${name}/tag?repo=${repo}&tag=${tag}`, { method: 'POST' }), [201, 404]);
      } else if (kind === 'remove') note(kind, await call(`/images/${name}`, { method: 'DELETE' }), [200, 404, 409]);
      else if (kind === 'load') {
        const archive = rng.pick(archives);
        note(kind, await call('/images/load?quiet=1', { method: 'POST', body: archive.tar, headers: { 'Content-Type': 'application/x-tar' } }), [200]);
      } else {
        note(kind, await call(`/images/create?fromImage=${encodeURIComponent(pullRef!)}&tag=v1`, { method: 'POST' }), [200]);
        if (offered.has('remove') && rng.chance(0.5)) note('remove', await call(`/images/${pullRef!}:v1`, { method: 'DELETE' }), [200, 404, 409]);
      }
    };

    const samples: Sample[] = [];
    const sampler = setInterval(() => {
      try {
        samples.push(sampleOf(pid));
      } catch (err) {
        failures.push(`could not read /proc/${pid}: ${(err as Error).message}`);
      }
    }, SAMPLE_MS);
    const deadline = Date.now() + SECONDS * 1000;
    try {
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          while (Date.now() < deadline && failures.length < 20) {
            const kind = pick();
            try {
              await operate(kind);
            } catch (err) {
              failures.push(`${kind}: no answer: ${(err as Error).message}`);
            }
          }
        }),
      );
    } finally {
      clearInterval(sampler);
    }
    samples.push(sampleOf(pid));

    const third = Math.max(1, Math.floor(samples.length / 3));
    const first = samples.slice(0, third);
    const last = samples.slice(-third);
    const rssFirst = median(first.map((s) => s.rss));
    const rssLast = median(last.map((s) => s.rss));
    const fdsFirst = Math.max(...first.map((s) => s.fds));
    const fdsLast = Math.max(...last.map((s) => s.fds));
    const rssMax = Math.max(...samples.map((s) => s.rss));
    const fdsMax = Math.max(...samples.map((s) => s.fds));
    t.diagnostic(`requests: ${JSON.stringify(counts)}`);
    t.diagnostic(
      `RSS median ${mib(rssFirst)} (first third) → ${mib(rssLast)} (last third), max ${mib(rssMax)}; ` +
        `fds max ${fdsFirst} → ${fdsLast}, max ${fdsMax}; ${samples.length} samples`,
    );

    await daemon.stop();
    await registry?.stop();
    const check = await run(process.execPath, [path.join(repoRoot, 'bin', 'ladingd.js'), 'check', '--data-root', daemon.dataRoot], {
      timeoutMs: 300_000,
    });

    assert.deepEqual(failures, [], daemon.logs());
    for (const [kind] of weights) assert.ok(Object.keys(counts[kind] ?? {}).length > 0, `no ${kind} request was answered`);
    assert.ok(rssMax < MAX_RSS_BYTES, `RSS reached ${mib(rssMax)}, over ${mib(MAX_RSS_BYTES)}`);
    assert.ok(fdsMax < MAX_FDS, `open fds reached ${fdsMax}, over ${MAX_FDS}`);
    assert.ok(
      rssLast <= rssFirst * RSS_GROWTH_FACTOR + RSS_GROWTH_SLACK,
      `RSS grew from ${mib(rssFirst)} in the first third to ${mib(rssLast)} in the last`,
    );
    assert.ok(fdsLast <= fdsFirst + FD_GROWTH_SLACK, `open fds grew from ${fdsFirst} in the first third to ${fdsLast} in the last`);
    assert.equal(check.code, 0, `ladingd check:\n${check.stdout}${check.stderr}`);
  });
});
