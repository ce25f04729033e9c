import type { Readable } from 'node:stream';
import type { BlobInfo, BlobWriter, ContentStore } from '../content/content-store.js';
import { InvalidArgumentError } from '../errors.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import type { Descriptor } from '../oci/types.js';
import { ContentReader, isIndex, isManifest } from './content-reader.js';
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
export class GarbageCollector {
  readonly gate = new ContentGate();

  constructor(
    private readonly content: ContentStore,
    private readonly metadata: MetadataStore,
    private readonly reader: ContentReader,
    readonly leases: Leases,
  ) {}

  /** Runs `fn` while no sweep can delete a blob; inside a read, pass its section as `within`. */
  reading<T>(fn: (section: ReadSection) => Promise<T> | T, within?: ReadSection): Promise<T> {
    return this.gate.reading(fn, within);
  }

  /** Deletes the `candidates` no image reaches and no lease holds; returns those deleted. */
  async collect(candidates: Iterable<string>, options: CollectOptions = {}): Promise<string[]> {
    const unique = [...new Set(candidates)];
    if (unique.length === 0) return [];
    return this.gate.sweep(async () => {
      const reachable = await this.reachableFrom(
        this.metadata.listImages().map((r) => r.target),
        options.detached,
      );
      const deleted: string[] = [];
      for (const digest of unique) {
        if (reachable.has(digest) || this.leases.isHeld(digest)) continue;
        if (await this.content.delete(digest)) deleted.push(digest);
        this.reader.forget(digest);
        this.metadata.deleteLayerFacts(digest);
        this.metadata.deleteBlobSources(digest);
      }
      return deleted;
    });
  }

  /**
   * Every blob reachable from `targets`: indexes, manifests, configs, layers, whether present or
   * not. A blob that cannot be parsed reaches nothing; a read that fails otherwise (I/O) fails the
   * walk, so a sweep deletes nothing on a guess.
   */
  async reachableFrom(targets: Descriptor[], detached?: ReadonlySet<string>): Promise<Set<string>> {
    const seen = new Set<string>();
    const visit = async (desc: Descriptor, depth: number): Promise<void> => {
      if (seen.has(desc.digest) || depth > 8) return;
      if (depth > 0 && detached?.has(desc.digest)) return;
      seen.add(desc.digest);
      if (isIndex(desc)) {
        const index = await unlessInvalid(this.reader.readIndex(desc));
        for (const child of index?.manifests ?? []) await visit(child, depth + 1);
      } else if (isManifest(desc)) {
        const manifest = await unlessInvalid(this.reader.readManifest(desc));
        if (!manifest) return;
        for (const child of [manifest.config, ...manifest.layers]) if (child?.digest) seen.add(child.digest);
      }
    };
    for (const target of targets) await visit(target, 0);
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
    const openWriter = async (): Promise<BlobWriter> => {
      const inner = await content.openWriter();
      return {
        write: (chunk) => inner.write(chunk),
        get written() {
          return inner.written;
        },
        commit: (expected) =>
          gate.reading(async () => {
            const info = await inner.commit(expected);
            hold(info.digest);
            return info;
          }),
        abort: () => inner.abort(),
      };
    };
    const seen = async <T>(digest: string, read: () => Promise<T>, found: (value: T) => boolean): Promise<T> =>
      gate.reading(async () => {
        const value = await read();
        if (found(value)) hold(digest);
        return value;
      });
    return {
      info: (digest) => seen(digest, () => content.info(digest), (v) => v !== undefined),
      has: (digest) => seen(digest, () => content.has(digest), (v) => v),
      readBytes: (digest, maxBytes) => seen(digest, () => content.readBytes(digest, maxBytes), () => true),
      createReadStream: (digest): Readable => content.createReadStream(digest),
      openWriter,
      async writeBytes(data: Uint8Array, expected?: Partial<BlobInfo>): Promise<BlobInfo> {
        const writer = await openWriter();
        try {
          await writer.write(data);
          return await writer.commit(expected);
        } finally {
          await writer.abort();
        }
      },
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
