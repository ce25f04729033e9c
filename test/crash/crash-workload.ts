// What the single-daemon crash harness (kill-harness.ts) and the cluster one (cluster-kill-harness.ts)
// share: the seeded randomness, the fixture archives, and the model of what was acknowledged per name,
// with the rules a store seen after a kill must satisfy.
import { MediaType } from '../../src/oci/media-types.js';
import type { Descriptor } from '../../src/oci/types.js';
import { buildTar, type TarEntrySpec } from '../../src/archive/testing/archive-builder.js';
import { OCI_LAYOUT, blob, blobEntry, indexJson, layer, ociIndex, ociManifest, type Blob } from '../../src/archive/testing/image-builder.js';
import type { HttpResponse } from '../support/daemon.js';

// ---------------------------------------------------------------- seeded randomness

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export class Rng {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  /** One of `weighted`'s items, each as likely as its weight. */
  weighted<T>(weighted: ReadonlyArray<readonly [T, number]>): T {
    let x = this.int(weighted.reduce((n, [, w]) => n + w, 0));
    for (const [item, w] of weighted) {
      if (x < w) return item;
      x -= w;
    }
    throw new Error('weighted pick from an empty list');
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

export function seedFromEnv(): number {
  const fromEnv = process.env.LADING_CRASH_SEED;
  if (fromEnv !== undefined && fromEnv !== '') {
    const n = Number(fromEnv);
    if (!Number.isSafeInteger(n)) throw new Error(`LADING_CRASH_SEED must be an integer, not ${fromEnv}`);
    return n >>> 0;
  }
  return (Math.random() * 2 ** 32) >>> 0;
}

// ---------------------------------------------------------------- fixtures

/** Names the harness uses: few, so that operations meet on the same names and blobs. */
export const NAMES = ['crash-a', 'crash-b', 'crash-c', 'crash-d'].flatMap((repo) => ['1', '2', '3'].map((tag) => `${repo}:${tag}`));

export interface FixtureArchive {
  tar: Buffer;
  /** Familiar name → the target digest a load points it at. */
  names: Map<string, string>;
  /** Images of the archive that have no name (loaded as dangling). */
  untagged: number;
}

/**
 * Small OCI-layout archives: images of one manifest or an index of two platforms, some untagged;
 * three base layers shared between images, one layer of its own each.
 */
export async function buildArchives(rng: Rng, count: number): Promise<FixtureArchive[]> {
  const bases: Array<{ blob: Blob; diffId: string }> = [];
  for (let i = 0; i < 3; i++) {
    const l = await layer({ [`base/${i}.bin`]: rng.bytes(rng.between(512, 4096)) });
    bases.push({ blob: blob(l.tar, MediaType.ociLayer), diffId: l.diffId });
  }
  const image = async (arch: string, marker: string): Promise<{ manifest: Blob; blobs: Blob[] }> => {
    const base = rng.pick(bases);
    const own = await layer({ [`app/${marker}.bin`]: rng.bytes(rng.between(256, 8192)) });
    const ownBlob = blob(own.tar, MediaType.ociLayer);
    const config = blob(
      JSON.stringify({
        architecture: arch,
        os: 'linux',
        config: { Labels: { marker } },
        rootfs: { type: 'layers', diff_ids: [base.diffId, own.diffId] },
      }),
      MediaType.ociConfig,
    );
    const manifest = ociManifest(config.desc, [base.blob.desc, ownBlob.desc]);
    return { manifest, blobs: [base.blob, ownBlob, config, manifest] };
  };
  // The host's platform, so that tag (which wants a platform the host can use) finds one; and another.
  const host = process.arch === 'arm64' ? 'arm64' : 'amd64';
  const other = host === 'arm64' ? 'amd64' : 'arm64';
  const archives: FixtureArchive[] = [];
  for (let a = 0; a < count; a++) {
    const entries = new Map<string, TarEntrySpec>();
    const top: Descriptor[] = [];
    const names = new Map<string, string>();
    let untagged = 0;
    const images = rng.chance(0.25) ? 2 : 1;
    for (let i = 0; i < images; i++) {
      const marker = `${a}-${i}-${rng.int(1e9)}`;
      let target: Descriptor;
      if (rng.chance(0.3)) {
        const mine = await image(host, `${marker}-${host}`);
        const theirs = await image(other, `${marker}-${other}`);
        const index = ociIndex([
          { ...mine.manifest.desc, platform: { architecture: host, os: 'linux' } },
          { ...theirs.manifest.desc, platform: { architecture: other, os: 'linux' } },
        ]);
        for (const b of [...mine.blobs, ...theirs.blobs, index]) entries.set(b.desc.digest, blobEntry(b));
        target = index.desc;
      } else {
        const one = await image(host, marker);
        for (const b of one.blobs) entries.set(b.desc.digest, blobEntry(b));
        target = one.manifest.desc;
      }
      const free = NAMES.filter((n) => !names.has(n));
      if (rng.chance(0.1)) {
        untagged++;
        top.push(target);
      } else {
        const name = rng.pick(free);
        names.set(name, target.digest);
        top.push({
          ...target,
          annotations: { 'io.containerd.image.name': `docker.io/library/${name}`, 'org.opencontainers.image.ref.name': name.split(':')[1]! },
        });
      }
    }
    const tar = await buildTar([OCI_LAYOUT, ...entries.values(), indexJson(top)]);
    archives.push({ tar, names, untagged });
  }
  return archives;
}

// ---------------------------------------------------------------- what the store must hold

export type NameState = { kind: 'present'; target: string } | { kind: 'absent' };

export const show = (s: NameState): string => (s.kind === 'present' ? s.target : 'absent');
export const same = (a: NameState, b: NameState): boolean => show(a) === show(b);

/** What an answer did to the model: acknowledged, cut by a kill, a refusal the model expects (unchanged), or one it does not (refused). */
export type Answer = 'acknowledged' | 'cut' | 'unchanged' | 'refused';

/** What was acknowledged, per name; names an interrupted operation may or may not have changed. */
export class Model {
  readonly state = new Map<string, NameState>();
  /** Name → the states it may be in after a kill. */
  readonly uncertain = new Map<string, NameState[]>();
  /** Loads cut by a kill: all their names changed, or none did. */
  readonly cutLoads: Array<Map<string, { before: NameState; after: NameState }>> = [];

  get(name: string): NameState {
    return this.state.get(name) ?? { kind: 'absent' };
  }
  set(name: string, s: NameState): void {
    this.state.set(name, s);
  }
  mayBe(name: string, after: NameState): void {
    const options = this.uncertain.get(name) ?? [this.get(name)];
    if (!options.some((o) => same(o, after))) options.push(after);
    this.uncertain.set(name, options);
  }
  /** A load cut by a kill: each of its names may now be what the load made it. */
  cutLoad(names: ReadonlyMap<string, string>): void {
    const cut = new Map<string, { before: NameState; after: NameState }>();
    for (const [name, target] of names) {
      const after: NameState = { kind: 'present', target };
      cut.set(name, { before: this.get(name), after });
      this.mayBe(name, after);
    }
    if (cut.size > 1) this.cutLoads.push(cut);
  }
  /**
   * What a load's answer (undefined: cut by a kill) makes of its names: acknowledged (a 200 whose
   * stream holds no error: every name is the load's), cut (each may be), or refused (none changed).
   */
  loadAnswered(names: ReadonlyMap<string, string>, res: HttpResponse | undefined): Answer {
    if (res === undefined) {
      this.cutLoad(names);
      return 'cut';
    }
    if (res.status !== 200 || res.text.includes('"error"')) return 'refused';
    for (const [name, target] of names) this.set(name, { kind: 'present', target });
    return 'acknowledged';
  }
  /** What a tag's answer makes of `dest`: the source's image (201), maybe so (cut), nothing (404 of an absent source). */
  tagAnswered(source: string, dest: string, res: HttpResponse | undefined): Answer {
    const src = this.get(source);
    if (res === undefined) {
      if (src.kind === 'present') this.mayBe(dest, src);
      return 'cut';
    }
    if (src.kind === 'present' && res.status === 201) {
      this.set(dest, src);
      return 'acknowledged';
    }
    return src.kind === 'absent' && res.status === 404 ? 'unchanged' : 'refused';
  }
  /** What a removal's answer makes of `name`: absent (200), maybe so (cut), nothing (404 of an absent name). */
  removeAnswered(name: string, res: HttpResponse | undefined): Answer {
    const before = this.get(name);
    if (res === undefined) {
      this.mayBe(name, { kind: 'absent' });
      return 'cut';
    }
    if (before.kind === 'present' && res.status === 200) {
      this.set(name, { kind: 'absent' });
      return 'acknowledged';
    }
    return before.kind === 'absent' && res.status === 404 ? 'unchanged' : 'refused';
  }
  presentNames(): string[] {
    return [...this.state].filter(([, s]) => s.kind === 'present').map(([n]) => n);
  }

  /**
   * What a store says of every name after a kill against what was acknowledged: each name as the
   * last acknowledged write left it, or as an interrupted operation may have left it; a cut load's
   * names all moved or none did. Then what was seen becomes the acknowledged state.
   */
  reconcile(seenNow: ReadonlyMap<string, NameState>, fail: (what: string) => void, after = 'after restart'): void {
    for (const [name, seen] of seenNow) {
      const options = this.uncertain.get(name);
      if (options) {
        if (!options.some((o) => same(o, seen))) {
          fail(`${name} ${after} is ${show(seen)}; an interrupted operation allows only ${options.map(show).join(' or ')}`);
        }
      } else if (!same(seen, this.get(name))) {
        const expected = this.get(name);
        fail(
          expected.kind === 'present'
            ? `${name}: acknowledged as ${expected.target}, but ${after} it is ${show(seen)}`
            : `${name}: acknowledged as removed, but ${after} it is ${show(seen)}`,
        );
      }
    }
    // A load is one transaction: the names of an interrupted one all moved, or none did.
    for (const cut of this.cutLoads) {
      const changing = [...cut].filter(([, c]) => !same(c.before, c.after));
      const moved = changing.filter(([n, c]) => same(seenNow.get(n) ?? { kind: 'absent' }, c.after)).map(([n]) => n);
      const stayed = changing.filter(([n, c]) => same(seenNow.get(n) ?? { kind: 'absent' }, c.before)).map(([n]) => n);
      if (moved.length > 0 && stayed.length > 0) fail(`an interrupted load named ${moved.join(', ')} but not ${stayed.join(', ')}`);
    }
    for (const [name, seen] of seenNow) this.set(name, seen);
    this.uncertain.clear();
    this.cutLoads.length = 0;
  }
}

/** present(Id) for 200, absent for 404; undefined for anything else. */
export function observed(res: HttpResponse): NameState | undefined {
  if (res.status === 200) return { kind: 'present', target: res.json<{ Id: string }>().Id };
  if (res.status === 404) return { kind: 'absent' };
  return undefined;
}

/** Takes every one of `names` in `locks`, or none when one is taken already (another operation's). */
export function lockNames(locks: Set<string>, names: readonly string[]): boolean {
  if (names.some((n) => locks.has(n))) return false;
  for (const n of names) locks.add(n);
  return true;
}

export function unlockNames(locks: Set<string>, names: readonly string[]): void {
  for (const n of names) locks.delete(n);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
