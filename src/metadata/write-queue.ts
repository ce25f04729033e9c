/**
 * One writer at a time, first come first served: SQLite has one write connection, on which a write
 * made while another caller's transaction awaits would join that transaction.
 */
export class WriteQueue {
  private held = false;
  private readonly waiting: Array<() => void> = [];
  private drained: Array<() => void> = [];

  /** Nobody holds it, so a synchronous write may run at once without passing anyone. */
  get idle(): boolean {
    return !this.held;
  }

  /** Resolves with the release once it is the caller's turn. */
  async acquire(): Promise<() => void> {
    if (this.held) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.held = true;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The queue stays held when handed on, so no synchronous write slips in between.
      if (next) return next();
      this.held = false;
      for (const resolve of this.drained.splice(0)) resolve();
    };
  }

  /** Settles once nobody holds it (close waits for the writes in progress). */
  async drain(): Promise<void> {
    if (this.held) await new Promise<void>((resolve) => this.drained.push(resolve));
  }
}
