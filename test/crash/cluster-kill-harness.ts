// Crash safety of replicas (issue 14, Done when): three ladingd replicas on one PostgreSQL and one
// blob registry serve clients that load, tag, remove, pull (from a second registry), save, prune and
// inspect, each request to a replica picked at random; a random replica is killed with SIGKILL at a
// random moment and started again. After every kill, every replica must show every acknowledged write
// (a load's names, a tag answered 201, a removal answered 200), the same on all of them, no load half
// visible, and every image savable on every replica with the same bytes. At the end, once the leases
// of the killed replicas have lapsed: `ladingd check` of the cluster is clean, and the registry's own
// `garbage-collect --delete-untagged` keeps every blob Lading holds (fresh replicas with empty caches
// save every image, byte for byte as before).
//
// One seed decides the fixtures, the operations, the replicas they go to, the victims and the moments
// of the kills; the processes' own timing still varies, so a seed replays a run's plan.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BLOB_REPOSITORY, replicaArgs } from '../support/cluster.js';
import { Daemon, type HttpResponse } from '../support/daemon.js';
import { run } from '../support/exec.js';
import { multiPlatformImage, singlePlatformImage } from '../support/images.js';
import { tempDir } from '../support/paths.js';
import { sharedPostgres } from '../support/postgres.js';
import { Registry, REGISTRY_BIN } from '../support/registry.js';
import { buildArchives, lockNames, Model, type Answer, NAMES, observed, Rng, same, show, sleep, unlockNames, type NameState } from './crash-workload.js';
import { LADINGD } from './kill-harness.js';

const API = '/v1.51';
const REPLICAS = 3;

export interface ClusterHarnessOptions {
  seed: number;
  kills: number;
  /** --lease-ttl of every replica. */
  leaseTtlMs: number;
  /** Clients sending requests at once. */
  clients?: number;
  progress?: (line: string) => void;
}

export interface ClusterHarnessReport {
  seed: number;
  kills: number;
  /** Requests sent, answered or not. */
  operations: number;
  acknowledged: Record<string, number>;
  /** Operations cut by a kill (their replica died before answering). */
  interrupted: number;
  /** What the registry's garbage-collect said it deleted (its `blob eligible for deletion` lines). */
  registryReclaimed: number;
  failures: string[];
  seconds: number;
}

type OpKind = 'load' | 'pull' | 'tag' | 'remove' | 'save' | 'prune' | 'inspect';
const WEIGHTS: Array<[OpKind, number]> = [['load', 25], ['pull', 10], ['tag', 15], ['remove', 15], ['save', 10], ['prune', 3], ['inspect', 15]];

interface Round {
  victim: number;
  killed: boolean;
  locks: Set<string>;
}

interface Pullable {
  name: string;
  from: string;
  target: string;
  /** Whole in the store after a pull (the multi-platform image is pulled for the host's platform only). */
  whole: boolean;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export async function runClusterKillHarness(options: ClusterHarnessOptions): Promise<ClusterHarnessReport> {
  const started = Date.now();
  const rng = new Rng(options.seed);
  const clients = options.clients ?? 4;
  const failures: string[] = [];
  const acknowledged: Record<string, number> = {};
  let operations = 0;
  let interrupted = 0;
  let registryReclaimed = 0;
  let kill = 0;
  const fail = (what: string): void => {
    failures.push(`seed ${options.seed}, after kill ${kill}: ${what}`);
  };

  const archives = await buildArchives(rng, 16);
  const url = await (await sharedPostgres()).createDatabase();
  // The blob registry's storage outside its own folder, which its stop removes: the registry's
  // garbage collector runs on it with the registry stopped, and it is served again after.
  const storage = mkdtempSync(path.join(tmpdir(), 'lading-crash-blobs-'));
  const blobsConfig = { config: { storage: { filesystem: { rootdirectory: storage } } } };
  const cleanup: Array<() => Promise<unknown>> = [async () => rmSync(storage, { recursive: true, force: true })];
  let replicas: Daemon[] = [];
  try {
    let blobs = await Registry.start(blobsConfig);
    cleanup.push(() => blobs.stop());
    const source = await Registry.start();
    cleanup.push(() => source.stop());
    const [single, multi] = await Promise.all([singlePlatformImage(), multiPlatformImage()]);
    await source.push(single, 'lab/single:v1');
    await source.push(multi, 'lab/multi:v1', { all: true });
    const pullable: Pullable[] = [
      { name: source.ref('lab/single:v1'), from: source.ref('lab/single'), target: single.id, whole: true },
      { name: source.ref('lab/multi:v1'), from: source.ref('lab/multi'), target: multi.id, whole: false },
    ];
    const allNames = [...NAMES, ...pullable.map((p) => p.name)];
    /** Targets whose every blob is in the store once named: what `docker save` must give whole. */
    const whole = new Set([...archives.flatMap((a) => [...a.names.values()]), ...pullable.filter((p) => p.whole).map((p) => p.target)]);
    /**
     * Target → the sha256 of its save by ID in the last verification: every replica gives the same
     * bytes. Not kept across rounds: a save's archive may change with the image's names and records.
     */
    let saved = new Map<string, string>();

    const dataRoots = Array.from({ length: REPLICAS }, (_, i) => tempDir(`crash-replica-${i}`));
    const startReplica = (dataRoot: string, registryHost: string): Promise<Daemon> =>
      Daemon.start({ dataRoot, logLevel: 'info', extraArgs: [...replicaArgs(url, registryHost), '--lease-ttl', `${options.leaseTtlMs}ms`] });
    // One after the other: the first applies the migrations.
    for (const root of dataRoots) replicas.push(await startReplica(root, blobs.host));

    const model = new Model();
    const call = (r: number, p: string, opts: Parameters<Daemon['request']>[1] = {}): Promise<HttpResponse> =>
      replicas[r]!.request(API + p, { timeoutMs: 60_000, ...opts });


    /** One operation on one replica, on names nobody else is changing; false when its names were taken. */
    const operate = async (round: Round, kind: OpKind): Promise<boolean> => {
      const r = rng.int(REPLICAS);
      const on = `on replica ${r}`;
      const ack = (): void => {
        acknowledged[kind] = (acknowledged[kind] ?? 0) + 1;
      };
      const unexpected = (what: string, res: HttpResponse): void => {
        // A stream's failure is in its last lines; a refused request's in its body.
        const text = res.text.length > 600 ? `…${res.text.slice(-600)}` : res.text;
        const line = `${what} ${on}: unexpected ${res.status}: ${text}`;
        fail(res.status >= 500 || res.text.includes('"error"') ? `${line}\n${replicas[r]!.logs(3000)}` : line);
      };
      /** Counts an answer the model has taken in. */
      const tally = (outcome: Answer, what: string, res: HttpResponse | undefined): void => {
        if (outcome === 'cut') interrupted++;
        else if (outcome === 'acknowledged') ack();
        else if (outcome === 'refused') unexpected(what, res!);
      };
      const lock = (names: string[]): boolean => lockNames(round.locks, names);
      const unlock = (names: string[]): void => unlockNames(round.locks, names);
      /** The answer, or undefined when the kill of this replica cut it. */
      const attempt = async (p: string, opts: Parameters<Daemon['request']>[1], what: string): Promise<HttpResponse | undefined> => {
        operations++;
        try {
          return await call(r, p, opts);
        } catch (err) {
          if (!(round.killed && round.victim === r)) fail(`${what} ${on}: no answer, and this replica was not killed: ${(err as Error).message}`);
          return undefined;
        }
      };
      const withNames = async (names: string[], fn: () => Promise<void>): Promise<boolean> => {
        if (!lock(names)) return false;
        try {
          await fn();
        } finally {
          unlock(names);
        }
        return true;
      };
      const present = model.presentNames();
      const anyName = (): string => (present.length > 0 && rng.chance(0.85) ? rng.pick(present) : rng.pick(allNames));

      switch (kind) {
        case 'load': {
          const archive = rng.pick(archives);
          const names = [...archive.names.keys()];
          return withNames(names, async () => {
            const body = { method: 'POST', body: archive.tar, headers: { 'Content-Type': 'application/x-tar' } };
            const res = await attempt('/images/load?quiet=1', body, `load of ${names.join(', ') || 'an untagged image'}`);
            tally(model.loadAnswered(archive.names, res), `load of ${names.join(', ')}`, res);
          });
        }
        case 'pull': {
          const p = rng.pick(pullable);
          return withNames([p.name], async () => {
            const res = await attempt(`/images/create?fromImage=${encodeURIComponent(p.from)}&tag=v1`, { method: 'POST' }, `pull of ${p.name}`);
            if (res === undefined) {
              model.mayBe(p.name, { kind: 'present', target: p.target });
              interrupted++;
            } else if (res.status === 200 && res.text.includes(`Digest: ${p.target}`) && !res.text.includes('"error"')) {
              ack();
              model.set(p.name, { kind: 'present', target: p.target });
            } else unexpected(`pull of ${p.name}`, res);
          });
        }
        case 'tag': {
          const src = anyName();
          const dest = rng.pick(NAMES);
          return withNames(src === dest ? [src] : [src, dest], async () => {
            const [repo, tag] = dest.split(':') as [string, string];
            const res = await attempt(`/images/${src}/tag?repo=${repo}&tag=${tag}`, { method: 'POST' }, `tag ${src} ${dest}`);
            tally(model.tagAnswered(src, dest, res), `tag ${src} ${dest} (source ${show(model.get(src))})`, res);
          });
        }
        case 'remove': {
          const name = anyName();
          return withNames([name], async () => {
            const res = await attempt(`/images/${name}`, { method: 'DELETE' }, `remove ${name}`);
            tally(model.removeAnswered(name, res), `remove ${name} (was ${show(model.get(name))})`, res);
          });
        }
        case 'save': {
          const candidates = present.filter((n) => whole.has(show(model.get(n))));
          if (candidates.length === 0) return true;
          const name = rng.pick(candidates);
          return withNames([name], async () => {
            const res = await attempt(`/images/get?names=${encodeURIComponent(name)}`, {}, `save ${name}`);
            if (res === undefined) interrupted++;
            else if (res.status === 200 && res.body.length > 0) ack();
            else unexpected(`save ${name} (acknowledged as ${show(model.get(name))})`, res);
          });
        }
        case 'prune': {
          const res = await attempt('/images/prune', { method: 'POST' }, 'prune');
          // 409: another prune is running on that replica (Docker answers so too).
          if (res?.status === 200) ack();
          else if (res && res.status !== 409) unexpected('prune', res);
          return true;
        }
        case 'inspect': {
          const name = rng.pick(allNames);
          return withNames([name], async () => {
            // Another replica's write reaches this one's response cache through NOTIFY: in its own time.
            for (let tries = 0; ; tries++) {
              const res = await attempt(`/images/${name}/json`, {}, `inspect ${name}`);
              if (res === undefined) return;
              const seen = observed(res);
              const expected = model.get(name);
              if (!seen) return unexpected(`inspect ${name}`, res);
              if (same(seen, expected)) return ack();
              if (tries >= 100) return fail(`inspect ${name} ${on}: it says ${show(seen)}, but the last acknowledged write made it ${show(expected)}`);
              await sleep(50);
            }
          });
        }
      }
    };

    /** Every name on every replica: the same everywhere (once NOTIFYs are heard), and as acknowledged. */
    const verifyNames = async (): Promise<void> => {
      let views: Array<Map<string, NameState>> = [];
      for (const until = Date.now() + 15_000; ; ) {
        views = [];
        for (let r = 0; r < REPLICAS; r++) {
          const view = new Map<string, NameState>();
          for (const name of allNames) {
            const res = await call(r, `/images/${name}/json`);
            const seen = observed(res);
            if (!seen) return fail(`inspect ${name} on replica ${r} after the kill: unexpected ${res.status}: ${res.text.slice(0, 300)}`);
            if (seen.kind === 'present' && !(res.json<{ RepoTags?: string[] }>().RepoTags ?? []).includes(name)) {
              return fail(`inspect ${name} on replica ${r}: its RepoTags lack ${name}`);
            }
            view.set(name, seen);
          }
          views.push(view);
        }
        const differ = allNames.filter((n) => views.some((v) => !same(v.get(n)!, views[0]!.get(n)!)));
        if (differ.length === 0) break;
        if (Date.now() > until) {
          return fail(`replicas disagree for 15 s: ${differ.map((n) => `${n}: ${views.map((v) => show(v.get(n)!)).join(' / ')}`).join('; ')}`);
        }
        await sleep(100);
      }
      model.reconcile(views[0]!, fail, 'after the kill');
    };

    /** Every image whose content is whole, saved by ID on every replica: the same bytes on each. */
    const verifySaves = async (on: Daemon[], when: string, reference = new Map<string, string>()): Promise<void> => {
      saved = reference;
      const targets = new Set(model.presentNames().map((n) => show(model.get(n))).filter((t) => whole.has(t)));
      for (const target of targets) {
        for (const [r, d] of on.entries()) {
          const res = await d.request(`${API}/images/get?names=${encodeURIComponent(target)}`, { timeoutMs: 60_000 });
          if (res.status !== 200) {
            fail(`save ${target} on replica ${r} ${when}: ${res.status} ${res.text.slice(0, 300)}\n${d.logs(3000)}`);
            continue;
          }
          const sum = sha256(res.body);
          const first = saved.get(target);
          if (first === undefined) saved.set(target, sum);
          else if (first !== sum) fail(`save ${target} on replica ${r} ${when}: other bytes than before (sha256 ${sum}, was ${first})`);
        }
      }
    };

    while (kill < options.kills && failures.length === 0) {
      const round: Round = { victim: rng.int(REPLICAS), killed: false, locks: new Set() };
      const delay = rng.chance(0.15) ? rng.between(0, 80) : rng.between(150, 1500);
      const workers = Array.from({ length: clients }, async () => {
        while (!round.killed && failures.length === 0) {
          // Names others hold: let timers (the kill) run before the next pick.
          if (!(await operate(round, rng.weighted(WEIGHTS)))) await sleep(2);
        }
      });
      await sleep(delay);
      round.killed = true;
      await replicas[round.victim]!.kill();
      kill++;
      await Promise.all(workers);
      if (failures.length > 0) break;
      replicas[round.victim] = await startReplica(dataRoots[round.victim]!, blobs.host);
      await verifyNames();
      await verifySaves(replicas, 'after the kill');
      options.progress?.(
        `kill ${kill}/${options.kills}: replica ${round.victim} after ${delay} ms; ${model.presentNames().length} names present, ` +
          `${operations} operations, ${interrupted} cut so far`,
      );
    }
    if (failures.length > 0) return report();

    // The end: the killed replicas' leases lapse; what they left is then collectable.
    const check = (host: string) =>
      run(process.execPath, [LADINGD, 'check', '--metadata', url, '--blob-store', `registry://${host}/${BLOB_REPOSITORY}`], { timeoutMs: 120_000 });
    await sleep(options.leaseTtlMs + 1000);
    let checked = await check(blobs.host);
    // The replicas' background sweep (every --gc-interval) collects what the killed ones left once their
    // leases lapse; nothing else is done here to help it.
    for (const until = Date.now() + 3 * options.leaseTtlMs + 10_000; checked.code !== 0 && Date.now() < until; ) {
      await sleep(500);
      checked = await check(blobs.host);
    }
    if (checked.code !== 0) return (fail(`ladingd check of the cluster exited ${checked.code}:\n${checked.stdout}${checked.stderr}`), report());

    // The registry's own collector, offline as distribution requires, then every image saved again
    // through fresh replicas, whose empty caches read everything from the registry.
    for (const d of replicas) await d.stop();
    replicas = [];
    const config = readFileSync(blobs.configPath, 'utf8');
    await blobs.stop();
    const configFile = `${storage}.config.json`;
    writeFileSync(configFile, config);
    cleanup.push(async () => rmSync(configFile, { force: true }));
    const gc = await run(REGISTRY_BIN, ['garbage-collect', '--delete-untagged', configFile], { timeoutMs: 120_000 });
    if (gc.code !== 0) return (fail(`registry garbage-collect exited ${gc.code}: ${gc.stderr}${gc.stdout}`), report());
    registryReclaimed = (gc.stdout.match(/blob eligible for deletion/g) ?? []).length;
    blobs = await Registry.start(blobsConfig);
    for (let i = 0; i < REPLICAS; i++) replicas.push(await startReplica(tempDir(`crash-fresh-${i}`), blobs.host));
    await verifyNames();
    // Nothing changed the records since the last verification: the bytes must be those.
    await verifySaves(replicas, 'after the registry\'s garbage-collect', saved);
    checked = await check(blobs.host);
    if (checked.code !== 0) fail(`ladingd check after the registry's garbage-collect exited ${checked.code}:\n${checked.stdout}${checked.stderr}`);
    return report();
  } finally {
    await Promise.all(replicas.map((d) => d.kill()));
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  }

  function report(): ClusterHarnessReport {
    return { seed: options.seed, kills: kill, operations, acknowledged, interrupted, registryReclaimed, failures, seconds: (Date.now() - started) / 1000 };
  }
}
