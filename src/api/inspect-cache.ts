import type { ServerResponse } from 'node:http';
import { responseKind, type ApiObserver, type ResponseKind } from './api-observer.js';

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

/**
 * Whole responses by raw request URL (inspect, and the lists that also depend on nothing but their
 * URL and the generation), for the server to answer before it parses or routes anything: a hit is
 * one Map lookup and one write of a head and body prepared when the body was rendered. Dropped
 * whenever the generation moves, as InspectCache is. The oldest entries make room for new ones, by
 * count and by bytes: a list of a large store is megabytes.
 */
export class InspectResponses {
  private readonly responses = new Map<string, { head: string[]; body: Buffer; kind: ResponseKind }>();
  /** Told of each hit and each answer rendered (a miss). */
  observer: ApiObserver | undefined;
  private generation = -1;
  private bytes = 0;
  private readonly rendering = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly commonHeaders: readonly (readonly [string, string])[],
    private readonly maxEntries = 20_000,
    private readonly maxBytes = 64 * 1024 * 1024,
  ) {}

  /** Answers `url` from the cache and returns what it answered, or returns undefined on a miss. */
  serve(url: string, generation: number, res: ServerResponse): ResponseKind | undefined {
    if (generation !== this.generation) {
      this.responses.clear();
      this.bytes = 0;
      this.generation = generation;
      return undefined;
    }
    const hit = this.responses.get(url);
    if (hit === undefined) return undefined;
    res.writeHead(200, hit.head);
    res.end(hit.body);
    this.observer?.responseCache(hit.kind, true);
    return hit.kind;
  }

  /** Sends a freshly rendered body for `url`, and keeps it if nothing was written since `generation`. */
  send(url: string, generation: number, body: Buffer, res: ServerResponse): void {
    const head = [...this.commonHeaders.flat(), 'Content-Type', 'application/json', 'Content-Length', String(body.length)];
    const kind = responseKind(url);
    this.observer?.responseCache(kind, false);
    if (generation === this.generation && body.length <= this.maxBytes) this.keep(url, { head, body, kind });
    res.writeHead(200, head);
    res.end(body);
  }

  /**
   * The body for `url` at `generation`, rendered once however many requests ask for it while it
   * renders: after a write, every client polling a list asks for the same list at once, and each
   * rendering it again only made all of them wait longer.
   */
  renderOnce(url: string, generation: number, render: () => Promise<Buffer>): Promise<Buffer> {
    const key = `${generation} ${url}`;
    let pending = this.rendering.get(key);
    if (pending === undefined) {
      pending = render().finally(() => this.rendering.delete(key));
      this.rendering.set(key, pending);
    }
    return pending;
  }

  /** How many responses and body bytes are kept. */
  get size(): { entries: number; bytes: number } {
    return { entries: this.responses.size, bytes: this.bytes };
  }

  private keep(url: string, entry: { head: string[]; body: Buffer; kind: ResponseKind }): void {
    // Two misses for one URL in flight at once: the later answer replaces the earlier.
    this.drop(url);
    for (const oldest of this.responses.keys()) {
      if (this.responses.size < this.maxEntries && this.bytes + entry.body.length <= this.maxBytes) break;
      this.drop(oldest);
    }
    this.responses.set(url, entry);
    this.bytes += entry.body.length;
  }

  private drop(url: string): void {
    const entry = this.responses.get(url);
    if (entry === undefined) return;
    this.responses.delete(url);
    this.bytes -= entry.body.length;
  }
}
