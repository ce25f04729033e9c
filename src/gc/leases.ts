/**
 * Blobs that an operation in flight has written but no image record points at yet. Garbage
 * collection leaves them alone until the operation ends, so a concurrent load is never robbed.
 */
export class Leases {
  private readonly held = new Map<string, number>();

  hold(digest: string): void {
    this.held.set(digest, (this.held.get(digest) ?? 0) + 1);
  }

  release(digests: Iterable<string>): void {
    for (const digest of digests) {
      const n = (this.held.get(digest) ?? 0) - 1;
      if (n > 0) this.held.set(digest, n);
      else this.held.delete(digest);
    }
  }

  isHeld(digest: string): boolean {
    return this.held.has(digest);
  }
}
