/**
 * How many blobs the store holds and their bytes, for the store gauges. Counting means listing every
 * blob (a stat each on disk, the holders' manifests in a registry tier), so it is done at most once
 * per interval however often the metrics are scraped, and concurrent scrapes share one count.
 */
export interface BlobCount {
  blobs: number;
  bytes: number;
}

export class BlobTotals {
  private last: { at: number; count: BlobCount } | undefined;
  private counting: Promise<BlobCount> | undefined;

  constructor(
    private readonly list: () => AsyncIterable<{ size: number }>,
    private readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The count of the last walk if it is recent enough, else a new one; a walk that fails keeps the last. */
  async read(): Promise<BlobCount> {
    if (this.last && this.now() - this.last.at < this.intervalMs) return this.last.count;
    this.counting ??= this.walk().finally(() => (this.counting = undefined));
    return this.counting;
  }

  private async walk(): Promise<BlobCount> {
    const at = this.now();
    const count: BlobCount = { blobs: 0, bytes: 0 };
    try {
      for await (const blob of this.list()) {
        count.blobs++;
        count.bytes += blob.size;
      }
    } catch (err) {
      if (this.last) return this.last.count;
      throw err;
    }
    this.last = { at, count };
    return count;
  }
}
