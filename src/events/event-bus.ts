/** An engine event, as Docker's events service records it (only image events exist in Lading). */
export interface EngineEvent {
  type: 'image';
  action: string;
  actor: { id: string; attributes: Record<string, string> };
  /** Nanoseconds since the epoch. */
  timeNano: bigint;
}

export type EventListener = (event: EngineEvent) => void;

/**
 * Fans events out to live subscribers and keeps the most recent ones, so that `since` can replay
 * what happened before a client connected (Docker keeps the last 256).
 */
export class EventBus {
  private readonly recent: EngineEvent[] = [];
  private readonly listeners = new Set<EventListener>();
  private lastNano = 0n;

  constructor(private readonly keep = 256) {}

  emit(type: EngineEvent['type'], action: string, id: string, attributes: Record<string, string> = {}): EngineEvent {
    let timeNano = BigInt(Date.now()) * 1_000_000n;
    if (timeNano <= this.lastNano) timeNano = this.lastNano + 1n;
    this.lastNano = timeNano;
    const event: EngineEvent = { type, action, actor: { id, attributes }, timeNano };
    this.recent.push(event);
    if (this.recent.length > this.keep) this.recent.shift();
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /** Events kept from before now, oldest first. */
  history(): readonly EngineEvent[] {
    return this.recent;
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
