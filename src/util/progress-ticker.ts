/**
 * Docker's progress ticker (jobs.showProgress in daemon/containerd/progress.go): every 100 ms the
 * tracked blobs are looked at and their lines written; one last look when the operation ends, so no
 * line comes after the caller's closing ones.
 */
export const PROGRESS_INTERVAL_MS = 100;

export abstract class ProgressTicker {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs = PROGRESS_INTERVAL_MS) {}

  start(): void {
    this.timer ??= setInterval(() => this.update(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.update();
  }

  /** One look at every tracked blob. */
  abstract update(): void;
}
