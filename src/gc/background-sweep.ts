import type { Logger } from '../util/logger.js';
import type { GarbageCollector } from './garbage-collector.js';

/**
 * Each replica's review of GC's shared queue every `intervalMs` (cluster mode, --gc-interval): what
 * no rmi or prune will ask for, the orphans of a replica killed mid-load or mid-pull once its leases
 * have lapsed and the heartbeat has queued them, is released without anyone's action. Due batches
 * are reviewed one after another until none is left; an idle round costs one query.
 */
export class BackgroundSweep {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private stopped = false;
  private failing = false;

  constructor(
    private readonly gc: GarbageCollector,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.round = this.sweep().finally(() => {
        this.round = undefined;
        this.start();
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  private async sweep(): Promise<void> {
    try {
      let released = 0;
      for (let deleted = await this.gc.reviewDue(); deleted !== undefined && !this.stopped; deleted = await this.gc.reviewDue()) {
        released += deleted.length;
      }
      if (released > 0) this.log.info(`Garbage collection released ${released} blob(s) from the review queue`);
      if (this.failing) this.log.info('Garbage collection reviews the queue again');
      this.failing = false;
    } catch (err) {
      // Once per failing streak (the database or the registry away): the rows wait for the next round.
      if (!this.failing) this.log.warn(`Garbage collection could not review its queue: ${(err as Error).message}`);
      this.failing = true;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.round;
  }
}
