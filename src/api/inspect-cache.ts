/**
 * Rendered inspect bodies, keyed by everything the body depends on. The whole cache is dropped
 * when the image service's generation moves (any tag, load or delete), so an answer is never
 * staler than the last write.
 */
export class InspectCache {
  private readonly bodies = new Map<string, Buffer>();
  private generation = -1;

  constructor(private readonly maxEntries = 50_000) {}

  get(key: string, generation: number): Buffer | undefined {
    if (generation !== this.generation) {
      this.bodies.clear();
      this.generation = generation;
      return undefined;
    }
    return this.bodies.get(key);
  }

  set(key: string, generation: number, body: Buffer): void {
    if (generation !== this.generation) return;
    if (this.bodies.size >= this.maxEntries) this.bodies.clear();
    this.bodies.set(key, body);
  }
}
