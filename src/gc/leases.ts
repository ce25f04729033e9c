/**
 * The leases other replicas on the same store hold (cluster/postgres-leases.ts); a daemon alone has
 * none. Writes through it are made in the order they are asked for.
 */
export interface SharedLeases {
  /** Records a hold; waits while a sweep on any replica reviews `digest` (gc-queue.ts). */
  hold(digest: string): Promise<void>;
  release(digest: string): Promise<void>;
  /** Whether any replica, this one included, holds a lease on `digest` that has not lapsed. */
  isHeld(digest: string): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Blobs that an operation in flight has written but no image record points at yet. Garbage
 * collection leaves them alone until the operation ends, so a concurrent load is never robbed;
 * with `shared`, neither is one on another replica.
 */
export class Leases {
  private readonly held = new Map<string, number>();
  /** Shared writes in the order asked: a release never overtakes its hold. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly shared?: SharedLeases,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  hold(digest: string): void {
    this.held.set(digest, (this.held.get(digest) ?? 0) + 1);
    if (this.shared) this.queue(() => this.shared!.hold(digest));
  }

  release(digests: Iterable<string>): void {
    for (const digest of digests) {
      const n = (this.held.get(digest) ?? 0) - 1;
      if (n > 0) this.held.set(digest, n);
      else this.held.delete(digest);
      if (this.shared) this.queue(() => this.shared!.release(digest));
    }
  }

  /** Held by an operation of this daemon. */
  isHeld(digest: string): boolean {
    return this.held.has(digest);
  }

  /** Held here or, with shared leases, by any replica. */
  async isHeldAnywhere(digest: string): Promise<boolean> {
    return this.held.has(digest) || (this.shared ? this.shared.isHeld(digest) : false);
  }

  /** Resolves once every hold asked so far is recorded where the other replicas' sweeps see it; rejects if one failed. */
  async recorded(): Promise<void> {
    await this.chain;
  }

  private queue(write: () => Promise<void>): void {
    const next = this.chain.catch(() => undefined).then(write);
    next.catch(this.onError);
    this.chain = next;
  }
}
