import type { Readable } from 'node:stream';
import { withCommit, writeWhole, type BlobWriter, type ContentStore } from '../content/content-store.js';
import { InvalidArgumentError } from '../errors.js';
import type { BlobEdge, MetadataStore } from '../metadata/metadata-store.js';
import { walkImageGraph } from '../oci/image-graph-walk.js';
import type { Descriptor } from '../oci/types.js';
import { ContentReader, isIndex, isManifest } from '../content/content-reader.js';
import type { MetadataTx } from '../metadata/metadata-transaction.js';
import type { GcQueue } from './gc-queue.js';
import type { Leases } from './leases.js';

/**
 * Proof of being inside a read section, handed to the section's function: a read inside a read
 * passes it on (`reading(fn, section)`) and runs at once, never behind a queued sweep.
 */
export interface ReadSection {
  /** False once the section's function has settled. */
  readonly open: boolean;
}

class OpenSection implements ReadSection {
  open = true;
  constructor(readonly gate: ContentGate) {}
}

/**
 * Who may touch blobs while others delete them. Reads (an inspect's walk, a blob commit with its
 * lease, a load naming its images) share the gate; a sweep has it alone, so a reader never sees a
 * blob vanish under it and a sweep never decides on a world that changes while it deletes.
 * Waiting sweeps go before new readers (no starvation); a read inside a read passes its section and
 * just runs.
 *
 * Sections are explicit rather than found from the async context: an AsyncLocalStorage turns on
 * async_hooks for every async resource of the process, every request's included, at a cost each
 * request pays (README, Performance). While a section's function runs synchronously the gate knows
 * it (a read called then is nested, a sweep called then is refused); after its first await, a
 * nested read must be given the section.
 */
export class ContentGate {
  private readers = 0;
  private sweeping = false;
  private readonly waitingReaders: Array<() => void> = [];
  private readonly waitingSweeps: Array<() => void> = [];
  /** The section whose function is on the stack right now (its synchronous part). */
  private running: OpenSection | undefined;

  async reading<T>(fn: (section: ReadSection) => Promise<T> | T, within?: ReadSection): Promise<T> {
    const enclosing = within ?? this.running;
    if (enclosing !== undefined) {
      if (!(enclosing instanceof OpenSection) || enclosing.gate !== this || !enclosing.open) {
        throw new Error('a nested content read needs an open read section of the same gate');
      }
      return this.call(fn, enclosing);
    }
    if (this.sweeping || this.waitingSweeps.length > 0) {
      await new Promise<void>((resolve) => this.waitingReaders.push(resolve));
    } else {
      this.readers++;
    }
    const section = new OpenSection(this);
    try {
      return await this.call(fn, section);
    } finally {
      section.open = false;
      this.readers--;
      if (this.readers === 0 && this.waitingSweeps.length > 0) {
        this.sweeping = true;
        this.waitingSweeps.shift()!();
      }
    }
  }

  private call<T>(fn: (section: ReadSection) => Promise<T> | T, section: OpenSection): Promise<T> | T {
    const previous = this.running;
    this.running = section;
    try {
      return fn(section);
    } finally {
      this.running = previous;
    }
  }

  async sweep<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running) throw new Error('garbage collection cannot run inside a content read');
    if (this.sweeping || this.readers > 0 || this.waitingSweeps.length > 0) {
      await new Promise<void>((resolve) => this.waitingSweeps.push(resolve));
    } else {
      this.sweeping = true;
    }
    try {
      return await fn();
    } finally {
      this.sweeping = false;
      // Readers that queued behind this sweep go next, all together; then the next sweep.
      if (this.waitingReaders.length > 0) {
        const admitted = this.waitingReaders.splice(0);
        this.readers += admitted.length;
        for (const resolve of admitted) resolve();
      } else if (this.waitingSweeps.length > 0) {
        this.sweeping = true;
        this.waitingSweeps.shift()!();
      }
    }
  }

  /** Nothing held, nothing waiting. */
  get idle(): boolean {
    return this.readers === 0 && !this.sweeping && this.waitingReaders.length === 0 && this.waitingSweeps.length === 0;
  }
}

/** Above this many candidates a sweep computes every reachable blob once rather than asking per blob. */
const BULK_CANDIDATES = 2_000;
/** Candidates claimed from the shared queue per transaction: its locks and its connection are held while the registry is told. */
const REVIEW_BATCH = 64;

export interface CollectOptions {
  /**
   * Manifests to treat as gone wherever an index lists them (a platform being removed): what only
   * they reach becomes garbage. An image whose target is one of them still keeps it.
   */
  detached?: ReadonlySet<string>;
}

/**
 * Garbage collection of blobs: a blob stays while an image record reaches it or an operation in
 * flight holds a lease on it. Sweeps run alone (ContentGate), so they never race a load naming its
 * images, a commit taking its lease, or a reader walking an image.
 */
/** Told of every sweep (the daemon's metrics): the blobs it deleted and the seconds it ran alone. */
export type GcObserver = (deleted: readonly string[], seconds: number) => void;

export class GarbageCollector {
  readonly gate = new ContentGate();
  observer: GcObserver | undefined;

  constructor(
    private readonly content: ContentStore,
    private readonly metadata: MetadataStore,
    private readonly reader: ContentReader,
    readonly leases: Leases,
    /** The review queue replicas share (cluster mode); without it a sweep decides alone, in this process. */
    private readonly queue?: GcQueue,
  ) {
    if (metadata.graphBuilt) {
      this.graphReady = Promise.resolve();
    } else {
      this.graphReady = new Promise<void>((resolve, reject) => (this.graphSettle = { resolve, reject }));
      this.graphReady.catch(() => undefined);
    }
  }

  /** Runs `fn` while no sweep can delete a blob; inside a read, pass its section as `within`. */
  reading<T>(fn: (section: ReadSection) => Promise<T> | T, within?: ReadSection): Promise<T> {
    return this.gate.reading(fn, within);
  }

  /**
   * Settles once the blob graph of a data root from before it existed has been built (buildGraph);
   * until then sweeps wait, whenever they were asked for.
   */
  private readonly graphReady: Promise<void>;
  private graphSettle: { resolve: () => void; reject: (err: unknown) => void } | undefined;
  private graphBuilding: Promise<void> | undefined;

  /**
   * Deletes the `candidates` no image reaches and no lease holds; returns those deleted. Which
   * blobs images reach is the metadata's blob graph (written with every record), so a sweep asks
   * the metadata about its candidates only: a few of them one by one upwards, many at once downwards.
   */
  async collect(candidates: Iterable<string>, options: CollectOptions = {}): Promise<string[]> {
    const unique = [...new Set(candidates)];
    if (unique.length === 0) return [];
    await this.graphReady;
    if (this.queue) return this.collectQueued(this.queue, unique, options);
    return this.gate.sweep(async () => {
      const started = performance.now();
      const doomed = await this.doomed(unique, options, this.metadata);
      // Their records go first, in one transaction: a kill before the files go leaves blobs no
      // image reaches (the start-up check collects them), never records of blobs that are gone. A
      // removal: it commits on a full disk.
      await this.metadata.removal((tx) => this.forget(tx, doomed));
      const deleted = await this.unlink(doomed);
      this.observer?.(deleted, (performance.now() - started) / 1000);
      return deleted;
    });
  }

  /**
   * collect with a review queue shared by replicas: the candidates are queued, then claimed and
   * reviewed here at once, so that rmi and prune free what they free before they answer. Those
   * another replica has claimed meanwhile are its to release; those still leased stay queued.
   */
  private async collectQueued(queue: GcQueue, candidates: string[], options: CollectOptions): Promise<string[]> {
    // This replica's releases written first: the review reads the shared leases table.
    await this.leases.recorded().catch(() => undefined);
    await queue.enqueue(candidates);
    const deleted: string[] = [];
    for (let i = 0; i < candidates.length; i += REVIEW_BATCH) {
      const batch = candidates.slice(i, i + REVIEW_BATCH);
      deleted.push(...(await this.gate.sweep(() => this.review(queue, batch, options))));
    }
    return deleted;
  }

  /**
   * Reviews up to a batch of due candidates of the shared queue; returns the blobs released, or
   * undefined when none was claimed (nothing due, or no queue). The background sweep's step.
   */
  async reviewDue(): Promise<string[] | undefined> {
    const queue = this.queue;
    if (!queue || !(await queue.due())) return undefined;
    await this.graphReady;
    let claimed = 0;
    const deleted = await this.gate.sweep(() => this.review(queue, undefined, {}, (n) => (claimed = n)));
    return claimed > 0 ? deleted : undefined;
  }

  /**
   * One claim of the queue, reviewed in its transaction. Why it is safe against writes in flight
   * on other replicas: a lease write takes its digest's advisory lock shared and the claim takes
   * it alone (per digest, cluster/postgres-gc-queue.ts), so for each claimed blob either the lease
   * was committed before the review reads the leases (kept, postponed) or it is recorded after the
   * claim commits, and the write, which leases before it publishes or looks (leasingStore), then
   * finds the blob gone and writes it again. Per digest rather than one global lock: replicas review
   * disjoint batches at once, and a lease write waits only for a claim of its own blob.
   */
  private async review(queue: GcQueue, only: readonly string[] | undefined, options: CollectOptions, claimedCount?: (n: number) => void): Promise<string[]> {
    const started = performance.now();
    let deleted: string[] = [];
    const claimed = await queue.claim(REVIEW_BATCH, only, async (digests, tx) => {
      const postponed: string[] = [];
      const doomed = await this.doomed(digests, options, tx, postponed);
      await this.forget(tx, doomed);
      // The registry's holders and links go before the rows and records commit: a kill before the
      // commit leaves the rows, and whoever claims them again finds the blobs gone (idempotent).
      deleted = await this.unlink(doomed);
      return { released: doomed, postponed };
    });
    claimedCount?.(claimed);
    if (claimed > 0) this.observer?.(deleted, (performance.now() - started) / 1000);
    return deleted;
  }

  /** Those of `candidates` no lease holds (those held go to `held`) and no image reaches. */
  private async doomed(candidates: readonly string[], options: CollectOptions, graph: Pick<MetadataTx, 'isBlobReachable' | 'reachableBlobs'>, held: string[] = []): Promise<string[]> {
    const all = candidates.length > BULK_CANDIDATES ? await graph.reachableBlobs(options.detached) : undefined;
    const doomed: string[] = [];
    for (const digest of candidates) {
      if (await this.leases.isHeldAnywhere(digest)) {
        held.push(digest);
        continue;
      }
      if (all ? !all.has(digest) : !(await graph.isBlobReachable(digest, options.detached))) doomed.push(digest);
    }
    return doomed;
  }

  /** The records of `doomed` blobs: their edges, layer records, sources and the facts of what reaches them. */
  private async forget(tx: MetadataTx, doomed: readonly string[]): Promise<void> {
    for (const digest of doomed) {
      await tx.forgetBlob(digest);
      await tx.deleteLayerFacts(digest);
      await tx.deleteBlobSources(digest);
    }
  }

  /**
   * Holders first (the registry tier's tagged manifests), each a target's: a kill after this
   * leaves blobs unheld and unnamed, which the registry's own collector may take. Then the blobs.
   */
  private async unlink(doomed: readonly string[]): Promise<string[]> {
    const holds = this.content.holds;
    if (holds) for (const digest of doomed) await holds.release(digest);
    const deleted: string[] = [];
    for (const digest of doomed) {
      if (await this.content.delete(digest)) deleted.push(digest);
      this.reader.forget(digest);
    }
    return deleted;
  }

  /**
   * Has the content store keep each of `targets`' present blobs for as long as the target is
   * named (BlobHolds: a registry tier's holder manifest); nothing for stores without holds. Called
   * in a read section, before the records naming the targets commit.
   */
  async hold(targets: Descriptor[]): Promise<void> {
    const holds = this.content.holds;
    if (!holds) return;
    for (const target of new Map(targets.map((t) => [t.digest, t])).values()) {
      const blobs = [];
      for (const digest of await this.walk([target])) {
        const info = await this.content.info(digest);
        if (info) blobs.push(info);
      }
      await holds.hold(target.digest, blobs);
    }
  }

  /**
   * The blob graph under `targets` as their JSON says (what `putBlobEdges` stores), and every blob
   * they reach. Written in the transaction that names the targets.
   */
  async graphOf(targets: Descriptor[]): Promise<{ edges: BlobEdge[]; reached: Set<string> }> {
    const edges: BlobEdge[] = [];
    const reached = await this.walk(targets, undefined, (parent, child) => edges.push({ parent: parent.digest, child: child.digest }));
    return { edges, reached };
  }

  /**
   * The graph under those of `digests` that an index here already lists as a manifest or index,
   * but whose JSON arrives only now (an archive holding a platform manifest of an image it does not
   * name): without it, what that manifest lists would look unreached once it is here.
   */
  async graphUnderListed(digests: Iterable<string>): Promise<BlobEdge[]> {
    const listed: Descriptor[] = [];
    for (const digest of new Set(digests)) {
      for (const parent of await this.metadata.blobParents(digest)) {
        const doc = await unlessInvalid(this.reader.readJson<{ manifests?: unknown }>(parent));
        const children = doc && typeof doc === 'object' && Array.isArray(doc.manifests) ? (doc.manifests as Descriptor[]) : [];
        const desc = children.find((c) => c?.digest === digest && (isIndex(c) || isManifest(c)));
        if (desc) listed.push(desc);
      }
    }
    return listed.length > 0 ? (await this.graphOf(listed)).edges : [];
  }

  /**
   * Builds the blob graph of a data root written before it existed: one walk of every image
   * target, in the background. Sweeps wait for it; loads and pulls meanwhile write their own edges.
   */
  buildGraph(log: (msg: string) => void = () => undefined): Promise<void> {
    if (this.metadata.graphBuilt) return Promise.resolve();
    const build = async (): Promise<void> => {
      // Let the listeners take their first requests before any of this.
      await new Promise((resolve) => setImmediate(resolve));
      const started = Date.now();
      const targets = new Map<string, Descriptor>();
      for (const r of await this.metadata.listImages()) targets.set(r.target.digest, r.target);
      log(`Upgrading the metadata: building the blob graph of ${targets.size} image target(s)`);
      let batch: Descriptor[] = [];
      const flush = async (): Promise<void> => {
        const { edges } = await this.gate.reading(() => this.graphOf(batch));
        await this.metadata.putBlobEdges(edges);
        batch = [];
      };
      for (const target of targets.values()) {
        if (this.graphStopped) throw new Error('the daemon is stopping: the blob graph is not complete, no sweep may run');
        batch.push(target);
        if (batch.length >= 1_000) await flush();
      }
      await flush();
      await this.metadata.markGraphBuilt();
      log(`Blob graph built in ${Date.now() - started} ms`);
    };
    this.graphBuilding ??= build().then(
      () => this.graphSettle?.resolve(),
      (err: unknown) => {
        // A sweep waiting for the graph fails with its error (collect's callers tolerate failure).
        this.graphSettle?.reject(err);
        throw err;
      },
    );
    return this.graphBuilding;
  }

  private graphStopped = false;

  /** Cuts buildGraph short at its next batch (a stop); the next start builds again. */
  async stopGraphBuild(): Promise<void> {
    this.graphStopped = true;
    if (this.graphBuilding) await this.graphBuilding.catch(() => undefined);
    else this.graphSettle?.reject(new Error('the daemon is stopping: the blob graph was not built, no sweep may run'));
  }

  /**
   * Every blob reachable from `targets`: indexes, manifests, configs, layers, whether present or
   * not. A blob that cannot be parsed reaches nothing; a read that fails otherwise (I/O) fails the
   * walk, so a sweep deletes nothing on a guess.
   */
  reachableFrom(targets: Descriptor[], detached?: ReadonlySet<string>): Promise<Set<string>> {
    return this.walk(targets, detached);
  }

  private async walk(
    targets: Descriptor[],
    detached?: ReadonlySet<string>,
    onEdge?: (parent: Descriptor, child: Descriptor) => void,
  ): Promise<Set<string>> {
    // A manifest's config and layers are reached, never read: each counts as seen, not walked.
    const seen = new Set<string>();
    const edgesTo = (desc: Descriptor, children: readonly Descriptor[] | undefined): Descriptor[] => {
      const valid = (children ?? []).filter((child) => typeof child?.digest === 'string');
      for (const child of valid) onEdge?.(desc, child);
      return valid;
    };
    await walkImageGraph(
      targets,
      async (desc) => {
        if (isIndex(desc)) return edgesTo(desc, (await unlessInvalid(this.reader.readIndex(desc)))?.manifests);
        if (!isManifest(desc)) return undefined;
        const manifest = await unlessInvalid(this.reader.readManifest(desc));
        if (manifest) for (const child of edgesTo(desc, [manifest.config, ...manifest.layers])) seen.add(child.digest);
        return undefined;
      },
      { seen, skip: (desc, depth) => depth > 0 && detached?.has(desc.digest) === true },
    );
    return seen;
  }

  /**
   * The content store as an operation that writes (a load) should see it: every blob it commits
   * or finds already present is leased, in the same step and never during a sweep. `held` collects
   * the leases (one entry per hold) for the caller to release.
   */
  leasingStore(held: string[]): ContentStore {
    const { content, gate, leases } = this;
    const hold = (digest: string): void => {
      leases.hold(digest);
      held.push(digest);
    };
    const unhold = (digest: string): void => {
      leases.release([digest]);
      held.splice(held.lastIndexOf(digest), 1);
    };
    const openWriter = async (): Promise<BlobWriter> => {
      const inner = await content.openWriter();
      // Leased once the digest is known and before the blob is published (renamed into place,
      // uploaded to the registry tier): leased after, a sweep on another replica could take the
      // blob between its upload and the lease, and this load would name what the cluster let go.
      return withCommit(inner, (expected, beforePublish) =>
        gate.reading(async () => {
          let leased: string | undefined;
          try {
            return await inner.commit(expected, async (info) => {
              hold(info.digest);
              leased = info.digest;
              await leases.recorded();
              await beforePublish?.(info);
            });
          } catch (err) {
            if (leased !== undefined) unhold(leased);
            throw err;
          }
        }),
      );
    };
    const seen = async <T>(digest: string, read: () => Promise<T>, found: (value: T) => boolean): Promise<T> =>
      gate.reading(async () => {
        // Held before it is looked at: a sweep on another replica either ended before the lease
        // was recorded (and the read sees what it left) or sees the lease.
        hold(digest);
        try {
          await leases.recorded();
          const value = await read();
          if (!found(value)) unhold(digest);
          return value;
        } catch (err) {
          unhold(digest);
          throw err;
        }
      });
    return {
      info: (digest) => seen(digest, () => content.info(digest), (v) => v !== undefined),
      has: (digest) => seen(digest, () => content.has(digest), (v) => v),
      readBytes: (digest, maxBytes) => seen(digest, () => content.readBytes(digest, maxBytes), () => true),
      createReadStream: (digest): Readable => content.createReadStream(digest),
      ...(content.blobFile ? { blobFile: (digest: string) => content.blobFile!(digest) } : {}),
      openWriter,
      writeBytes: (data, expected) => writeWhole(openWriter, data, expected),
      delete: (digest) => content.delete(digest),
      list: () => content.list(),
      cleanIngest: () => content.cleanIngest(),
    };
  }
}

async function unlessInvalid<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (err) {
    if (err instanceof InvalidArgumentError) return undefined;
    throw err;
  }
}
