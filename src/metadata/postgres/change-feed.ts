import postgres from 'postgres';
import type { Logger } from '../../util/logger.js';

/**
 * What the feed reports: another replica changed records (generation) or dropped target facts
 * (factsEpoch); or the feed went deaf (`lost`: changes may go unheard from now on) or hears again
 * (`back`: what changed meanwhile is unknown).
 */
export type Change = 'records' | 'facts' | 'lost' | 'back';

/** The client's notification hook (postgres's own listen() is built on it): channel and payload. */
type NotifyOptions = postgres.Options<Record<string, postgres.PostgresType>> & { onnotify?: (channel: string, payload: string) => void };

const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5_000;

/**
 * Other replicas' committed changes, heard with LISTEN on a connection of its own (the schema's
 * triggers NOTIFY them, postgres-schema.ts). While the connection is down nothing is heard: the
 * feed says so when it notices (`lost`) and when it listens again (`back`).
 *
 * Not the client's listen(): it re-listens once when its connection closes, and when the server is
 * still down then, it gives up without a word. This one keeps trying, from 200 ms to 5 s apart.
 */
export class ChangeFeed {
  private readonly sql: postgres.Sql;
  private closing = false;
  private retryMs = RETRY_MIN_MS;
  private timer: NodeJS.Timeout | undefined;
  private deaf = false;

  constructor(
    url: string,
    options: postgres.Options<Record<string, postgres.PostgresType>>,
    protected readonly channel: string,
    private readonly origin: string,
    private readonly onChange: (change: Change) => void,
    private readonly logger: Logger,
  ) {
    const feedOptions: NotifyOptions = {
      ...options,
      max: 1,
      idle_timeout: undefined,
      max_lifetime: null,
      onnotify: (c, payload) => this.heard(c, payload),
      onclose: () => this.lost(),
    };
    this.sql = postgres(url, feedOptions);
  }

  /** Listens; rejects when the database cannot be reached now (the store's open fails with it). */
  async start(): Promise<void> {
    await this.sql.unsafe(`LISTEN "${this.channel.replaceAll('"', '""')}"`);
  }

  /** A notification: a change of records or facts from another origin is reported (a subclass may hear other payloads). */
  protected heard(channel: string, payload: string): void {
    if (channel !== this.channel) return;
    const space = payload.indexOf(' ');
    const what = payload.slice(0, space);
    if (payload.slice(space + 1) === this.origin) return; // Ours: counted when it committed.
    if (what === 'records' || what === 'facts') this.onChange(what);
  }

  private lost(): void {
    if (this.closing || this.timer) return;
    if (!this.deaf) {
      this.deaf = true;
      this.onChange('lost');
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.start().then(
        () => {
          this.retryMs = RETRY_MIN_MS;
          this.logger.info('metadata database reached again: listening to other replicas\' changes', { channel: this.channel });
          this.deaf = false;
          this.onChange('back');
        },
        (err: unknown) => {
          if (this.retryMs === RETRY_MIN_MS) this.logger.warn(`metadata database out of reach, other replicas' changes unheard until it is back: ${err instanceof Error ? err.message : String(err)}`);
          this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
          this.lost();
        },
      );
    }, this.retryMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.timer);
    await this.sql.end({ timeout: 1 });
  }
}
