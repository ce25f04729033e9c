import postgres from 'postgres';
import type { GcQueue, ReviewOutcome } from '../gc/gc-queue.js';
import type { MetadataTx } from '../metadata/metadata-transaction.js';
import { ChangeFeed, type Change } from '../metadata/postgres/change-feed.js';
import { clientOptions } from '../metadata/postgres/postgres-client.js';
import { releaseChannel } from '../metadata/postgres/cluster-migrations.js';
import type { PostgresMetadataStore } from '../metadata/postgres/postgres-metadata-store.js';
import type { Logger } from '../util/logger.js';
import { blobLockKey } from './postgres-leases.js';

/** A NOTIFY payload must stay under 8000 bytes: digests (71 characters) are announced in groups. */
const DIGESTS_PER_NOTIFY = 100;

/**
 * GC's review queue in PostgreSQL (`gc_review_queue`, cluster-migrations.ts version 3), claimed
 * inside the metadata's own transactions, so that a claimed row goes in the commit that forgets
 * its blob's records. Claims skip rows another replica has locked (FOR UPDATE SKIP LOCKED) and blobs
 * whose lease is being recorded right now (the blob's advisory lock, tried, never waited for).
 */
export class PostgresGcQueue implements GcQueue {
  private channel: string | undefined;

  constructor(
    private readonly metadata: PostgresMetadataStore,
    /** How long a candidate still leased waits for its next review. */
    private readonly postponeMs: number,
  ) {}

  async enqueue(digests: readonly string[]): Promise<void> {
    if (digests.length === 0) return;
    // In one order on every replica: two removals queueing the same blobs never deadlock.
    const sorted = [...new Set(digests)].sort();
    await this.metadata.transactionWithSql(async (_tx, sql) => {
      await sql`INSERT INTO gc_review_queue (digest, review_after) SELECT unnest(${sorted}::text[]), now()
        ON CONFLICT (digest) DO UPDATE SET review_after = LEAST(gc_review_queue.review_after, EXCLUDED.review_after)`;
    });
  }

  async due(): Promise<boolean> {
    return this.metadata.transactionWithSql(async (_tx, sql) => {
      const [row] = await sql<Array<{ due: boolean }>>`SELECT EXISTS (SELECT 1 FROM gc_review_queue WHERE review_after <= now()) AS due`;
      return row?.due === true;
    });
  }

  async claim(limit: number, only: readonly string[] | undefined, review: (claimed: string[], tx: MetadataTx) => Promise<ReviewOutcome>): Promise<number> {
    return this.metadata.transactionWithSql(async (tx, sql) => {
      const rows = only
        ? await sql<Array<{ digest: string }>>`SELECT digest FROM gc_review_queue
            WHERE review_after <= now() AND digest = ANY(${[...only]}::text[])
            ORDER BY review_after LIMIT ${limit} FOR UPDATE SKIP LOCKED`
        : await sql<Array<{ digest: string }>>`SELECT digest FROM gc_review_queue
            WHERE review_after <= now() ORDER BY review_after LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
      if (rows.length === 0) return 0;
      const digests = rows.map((r) => r.digest);
      // Held until the commit: a lease write of one of these waits for it, then sees what it left.
      const locks = await sql<Array<{ digest: string; got: boolean }>>`
        SELECT t.digest, pg_try_advisory_xact_lock(hashtextextended(t.key, 0)) AS got
        FROM unnest(${digests}::text[], ${digests.map(blobLockKey)}::text[]) AS t(digest, key)`;
      // A lease of a blob that is being recorded now: it is held, look again later.
      const busy = locks.filter((l) => !l.got).map((l) => l.digest);
      const outcome = await review(locks.filter((l) => l.got).map((l) => l.digest), tx);
      const postponed = [...busy, ...outcome.postponed];
      const done = digests.filter((d) => !postponed.includes(d));
      await sql`DELETE FROM gc_review_queue WHERE digest = ANY(${done}::text[])`;
      if (postponed.length > 0) {
        await sql`UPDATE gc_review_queue SET review_after = now() + ${`${this.postponeMs} milliseconds`}::interval,
          postponed = postponed + 1 WHERE digest = ANY(${postponed}::text[])`;
      }
      // Heard by every replica once this commits (never if it does not): their caches let them go.
      const channel = await this.channelName(sql);
      for (let i = 0; i < outcome.released.length; i += DIGESTS_PER_NOTIFY) {
        await sql`SELECT pg_notify(${channel}, ${outcome.released.slice(i, i + DIGESTS_PER_NOTIFY).join(' ')})`;
      }
      return rows.length;
    });
  }

  /** The channel releases are announced on (the schema's), for ReleaseFeed. */
  async channelName(sql?: postgres.TransactionSql): Promise<string> {
    if (this.channel === undefined) {
      const query = (db: postgres.TransactionSql) => db<Array<{ s: string }>>`SELECT current_schema() AS s`;
      const [row] = sql ? await query(sql) : await this.metadata.transactionWithSql((_tx, db) => query(db));
      this.channel = releaseChannel(row!.s);
    }
    return this.channel;
  }
}

/** What a replica does with the blobs the cluster released: `unknown` when some may have gone unheard (the feed was down). */
export interface ReleaseListener {
  released(digests: readonly string[]): void;
  unknown(): void;
}

/**
 * The blobs released by any replica's review (the claim's NOTIFY), heard on a connection of its
 * own with the change feed's reconnection: each replica evicts them from its blob cache. While the
 * connection is down, releases go unheard: `unknown` is told when it goes and when it is back.
 */
export class ReleaseFeed extends ChangeFeed {
  constructor(url: string, channel: string, private readonly listener: ReleaseListener, logger: Logger) {
    super(
      url,
      clientOptions('ladingd releases', 1),
      channel,
      '',
      (change: Change) => {
        if (change === 'lost' || change === 'back') listener.unknown();
      },
      logger,
    );
  }

  protected override heard(channel: string, payload: string): void {
    if (channel === this.channel) this.listener.released(payload.split(' ').filter((d) => d !== ''));
  }
}
