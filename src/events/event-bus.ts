import type { EventLog } from './event-log.js';

/** An engine event, as Docker's events service records it (only image events exist in Lading). */
export interface EngineEvent {
  type: 'image';
  action: string;
  actor: { id: string; attributes: Record<string, string> };
  /** Nanoseconds since the epoch. */
  timeNano: bigint;
}

export type EventListener = (event: EngineEvent) => void;

export interface Subscription {
  /** Kept events within [since, until] that pass the filter, oldest first. */
  buffered: EngineEvent[];
  unsubscribe(): void;
}

export interface SubscribeOptions {
  /** Nanoseconds since the epoch; undefined when not given. */
  since?: bigint;
  until?: bigint;
  include?: (event: EngineEvent) => boolean;
  /** Called when the bus closes (daemon shutdown): the stream should end. */
  onClose?: () => void;
}

/**
 * Fans events out to live subscribers and keeps the most recent ones, so that `since` can replay
 * what happened before a client connected (Docker keeps the last 256).
 */
export class EventBus {
  private readonly recent: EngineEvent[] = [];
  private readonly listeners = new Map<EventListener, (() => void) | undefined>();
  private lastNano = 0n;
  /** Where this replica's events go first when replicas share one log (event-log.ts); delivered back in the log's order. */
  private log: EventLog | undefined;

  constructor(private readonly keep = 256) {}

  /**
   * Events from now on go through `log`, which delivers every replica's events here in its order;
   * what it kept from before this replica started is the history `since` replays.
   */
  async share(log: EventLog): Promise<void> {
    this.log = log;
    for (const event of await log.start((event) => this.deliver(event), this.keep)) this.remember(event);
  }

  emit(type: EngineEvent['type'], action: string, id: string, attributes: Record<string, string> = {}): EngineEvent {
    // Milliseconds from the wall clock, the rest from the monotonic one; strictly increasing.
    let timeNano = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
    if (timeNano <= this.lastNano) timeNano = this.lastNano + 1n;
    this.lastNano = timeNano;
    const event: EngineEvent = { type, action, actor: { id, attributes: { ...attributes } }, timeNano };
    if (this.log) this.log.append(event);
    else this.deliver(event);
    return event;
  }

  private remember(event: EngineEvent): void {
    this.recent.push(event);
    if (this.recent.length > this.keep) this.recent.shift();
  }

  private deliver(event: EngineEvent): void {
    this.remember(event);
    for (const listener of [...this.listeners.keys()]) listener(event);
  }

  /** Events kept from before now, oldest first. */
  history(): readonly EngineEvent[] {
    return this.recent;
  }

  subscribe(listener: EventListener, onClose?: () => void): () => void {
    this.listeners.set(listener, onClose);
    return () => this.listeners.delete(listener);
  }

  /**
   * Docker's SubscribeTopic: the kept events between `since` and `until` (only when either is
   * given), then every new event passing `include`, with nothing lost or repeated in between.
   */
  subscribeTopic(listener: EventListener, options: SubscribeOptions = {}): Subscription {
    const include = options.include ?? (() => true);
    const buffered: EngineEvent[] = [];
    if (options.since !== undefined || options.until !== undefined) {
      const since = options.since ?? 0n;
      for (let i = this.recent.length - 1; i >= 0; i--) {
        const event = this.recent[i]!;
        if (event.timeNano < since) break;
        if (options.until !== undefined && options.until > 0n && event.timeNano > options.until) continue;
        if (include(event)) buffered.unshift(event);
      }
    }
    const unsubscribe = this.subscribe((event) => {
      if (include(event)) listener(event);
    }, options.onClose);
    return { buffered, unsubscribe };
  }

  /** Ends every subscription: their streams finish, as dockerd's do when it shuts down. */
  close(): void {
    void this.log?.close();
    const closers = [...this.listeners.values()];
    this.listeners.clear();
    for (const onClose of closers) onClose?.();
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }
}
