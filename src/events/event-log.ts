import type { EngineEvent } from './event-bus.js';

/**
 * The log that replicas sharing one store write their events to (issue 14: `/events` on any replica
 * streams every replica's events in order). A daemon alone has none: its EventBus delivers its own
 * events directly. With one, the bus appends, and the log delivers every replica's events, its own
 * included, to each bus in one order, the log's.
 */
export interface EventLog {
  /**
   * Starts delivering events appended from now on, in the log's order, to `deliver`; resolves with
   * the last `keep` events appended before, oldest first (the history `since` and `until` replay).
   */
  start(deliver: (event: EngineEvent) => void, keep: number): Promise<EngineEvent[]>;
  /** Appends one of this replica's events; failures are the log's to report (the operation itself succeeded). */
  append(event: EngineEvent): void;
  close(): Promise<void>;
}
