import postgres from 'postgres';
import type { EngineEvent } from '../events/event-bus.js';
import type { EventLog } from '../events/event-log.js';
import { eventChannel } from '../metadata/postgres/cluster-migrations.js';
import { postgresClient } from '../metadata/postgres/postgres-client.js';
import { silentLogger, type Logger } from '../util/logger.js';

/** Rows kept in the table beyond what a replica replays (Docker keeps 256 per daemon); older ones are trimmed. */
const KEEP_ROWS = 1024;
/** Besides NOTIFY, the table is read this often: what a lost connection missed arrives anyway. */
const POLL_MS = 1_000;
/** Appends per trim of old rows. */
const TRIM_EVERY = 64;
/** One lock key for appends in every schema: appends are short, and seq order must be commit order. */
const APPEND_LOCK = 'lading events append';

interface EventRow {
  seq: string;
  time_nano: string;
  type: string;
  action: string;
  actor_id: string;
  attributes: Record<string, string>;
}

/**
 * The event log of replicas on one PostgreSQL (event-log.ts): an `events` table whose `seq` is
 * commit order, NOTIFY on insert, and each replica reading the rows after the last it delivered,
 * on a notification or every second, so every bus gets every event once, in seq order.
 */
export class PostgresEventLog implements EventLog {
  private readonly sql: postgres.Sql;
  private deliver: ((event: EngineEvent) => void) | undefined;
  private lastSeq = 0n;
  private reading: Promise<void> | undefined;
  private again = false;
  private poll: NodeJS.Timeout | undefined;
  private appends = 0;
  private closed = false;
  /** Appends in order: a replica's events keep the order it emitted them in. */
  private chain: Promise<void> = Promise.resolve();

  constructor(url: string, private readonly logger: Logger = silentLogger) {
    this.sql = postgresClient(url, 'ladingd events', 2);
  }

  async start(deliver: (event: EngineEvent) => void, keep: number): Promise<EngineEvent[]> {
    const [schema] = await this.sql<Array<{ s: string }>>`SELECT current_schema() AS s`;
    const rows = await this.sql<EventRow[]>`SELECT * FROM (SELECT * FROM events ORDER BY seq DESC LIMIT ${keep}) t ORDER BY seq`;
    const [last] = await this.sql<Array<{ seq: string | null }>>`SELECT max(seq)::text AS seq FROM events`;
    this.lastSeq = BigInt(last?.seq ?? '0');
    this.deliver = deliver;
    await this.sql.listen(eventChannel(schema!.s), () => this.readNew());
    this.poll = setInterval(() => this.readNew(), POLL_MS);
    this.poll.unref();
    return rows.map(toEvent);
  }

  append(event: EngineEvent): void {
    this.chain = this.chain.then(() => this.insert(event)).catch((err: unknown) => {
      this.logger.warn(`event ${event.action} of ${event.actor.id} not recorded in the shared event log: ${(err as Error).message}`);
    });
  }

  private async insert(event: EngineEvent): Promise<void> {
    await this.sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(hashtextextended(${APPEND_LOCK}, 0))`;
      // Never before the newest row: `since` and `until` compare times, and the order is seq's.
      await tx`INSERT INTO events (seq, time_nano, type, action, actor_id, attributes)
        SELECT coalesce(max(seq), 0) + 1, greatest(${event.timeNano.toString()}::bigint, coalesce(max(time_nano), 0) + 1),
               ${event.type}, ${event.action}, ${event.actor.id}, ${tx.json(event.actor.attributes)}
        FROM events`;
    });
    if (++this.appends % TRIM_EVERY === 0) {
      await this.sql`DELETE FROM events WHERE seq <= (SELECT max(seq) FROM events) - ${KEEP_ROWS}`;
    }
  }

  /** Reads rows after the last delivered; one read at a time, another after it when asked meanwhile. */
  private readNew(): void {
    if (this.closed) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = (async () => {
      do {
        this.again = false;
        const rows = await this.sql<EventRow[]>`SELECT * FROM events WHERE seq > ${this.lastSeq.toString()} ORDER BY seq`;
        for (const row of rows) {
          this.lastSeq = BigInt(row.seq);
          this.deliver?.(toEvent(row));
        }
      } while (this.again && !this.closed);
    })()
      .catch(() => undefined) // Out of reach: the next poll reads what was missed.
      .finally(() => {
        this.reading = undefined;
      });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.poll);
    await this.chain;
    await this.sql.end({ timeout: 1 });
  }
}

function toEvent(row: EventRow): EngineEvent {
  return {
    type: 'image',
    action: row.action,
    actor: { id: row.actor_id, attributes: row.attributes },
    timeNano: BigInt(row.time_nano),
  };
}
