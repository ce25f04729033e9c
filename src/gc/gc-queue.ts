import type { MetadataTx } from '../metadata/metadata-transaction.js';

/**
 * What a review decided of the candidates it claimed: `released` were let go (announced to every
 * replica when the transaction commits, for their caches); `postponed` are still held by a lease
 * and stay queued for a later review; every other claimed row goes with the review's transaction.
 */
export interface ReviewOutcome {
  released: readonly string[];
  postponed: readonly string[];
}

/**
 * The review queue of garbage collection shared by replicas (GitLab's online GC): blobs that may
 * have lost their last user, each due for review at a time. Whatever makes a blob unreferenced
 * queues it (a removal, a prune, a write that failed and released its leases, a lease that lapsed
 * with its replica); any replica claims due candidates, re-checks them and releases what no image
 * reaches and no lease holds, in one transaction with the rows. A claim whose replica dies is
 * rolled back by the database, and the rows are claimed again. cluster/postgres-gc-queue.ts.
 */
export interface GcQueue {
  /** Queues `digests`, due now (a row already queued becomes due now too). */
  enqueue(digests: readonly string[]): Promise<void>;
  /** Whether any candidate is due: cheap, so that an idle replica does not stop its readers for nothing. */
  due(): Promise<boolean>;
  /**
   * Claims up to `limit` due candidates (among `only` when given) that no other replica has
   * claimed, and runs `review` on them inside one transaction with the metadata (`tx`); the
   * claimed rows it does not postpone are deleted when that transaction commits. Returns how many
   * were claimed (0: nothing due, or everything due claimed elsewhere).
   */
  claim(limit: number, only: readonly string[] | undefined, review: (claimed: string[], tx: MetadataTx) => Promise<ReviewOutcome>): Promise<number>;
}
