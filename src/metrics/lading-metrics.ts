/**
 * The daemon's Prometheus metrics, in a registry of its own (never prom-client's global one), fed by
 * the observers the layers that know call: the API server (requests, the response cache), the
 * operation log (loads, pulls, pushes…), the garbage collector, the registry tier's blob cache. Store
 * sizes are read when scraped: record counts once per generation, blob totals at most once per
 * interval (blob-totals.ts). Served on `--metrics-addr` only (metrics-server.ts), as dockerd's are.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Readable } from 'node:stream';
import type { ApiObserver } from '../api/api-observer.js';
import type { BlobCacheObserver } from '../content/blob-cache.js';
import type { ContentStore } from '../content/content-store.js';
import type { GcObserver } from '../gc/garbage-collector.js';
import type { OperationObserver } from '../images/operation-log.js';
import { BlobTotals } from './blob-totals.js';
import { RequestStats } from './request-stats.js';

/** What the store gauges read; the daemon builds it from the image service and the content store. */
export interface StoreView {
  /** Moves with every write of the records; counts are read again only when it has. */
  readonly generation: number;
  /** Distinct image targets (`docker info`'s Images). */
  countTargets(): number | Promise<number>;
  /** Image records: every name, and each dangling image's one. */
  countRecords(): number | Promise<number>;
  listBlobs(): AsyncIterable<{ size: number }>;
}

/** Seconds; from a cached inspect's tenth of a millisecond to a load of minutes. */
const REQUEST_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const SLOW_BUCKETS = [0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];

export class LadingMetrics {
  readonly registry = new Registry();

  /** By method, route pattern and status class: counted in plain numbers, for the cached inspect's sake. */
  private readonly requests = new RequestStats(
    this.registry,
    { counter: 'lading_http_requests_total', histogram: 'lading_http_request_duration_seconds' },
    REQUEST_BUCKETS,
  );
  private readonly cacheHits = new Counter({
    name: 'lading_response_cache_hits_total',
    help: 'Inspect, list and disk usage answers sent from the rendered response cache',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  private readonly cacheMisses = new Counter({
    name: 'lading_response_cache_misses_total',
    help: 'Inspect, list and disk usage answers that had to be rendered',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  private readonly operations = new Counter({
    name: 'lading_operations_total',
    help: 'Loads, imports, pulls, pushes, tags, removals and prunes, by outcome (success, refused, cancelled, failed)',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly operationBytes = new Counter({
    name: 'lading_operation_bytes_total',
    help: 'Bytes of successful operations: blobs loaded, pulled or pushed, layers imported, space pruned',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });
  private readonly operationSeconds = new Histogram({
    name: 'lading_operation_duration_seconds',
    help: 'Time an operation took, whatever its outcome',
    labelNames: ['operation'] as const,
    buckets: SLOW_BUCKETS,
    registers: [this.registry],
  });
  private readonly gcRuns = new Counter({ name: 'lading_gc_runs_total', help: 'Garbage collection sweeps', registers: [this.registry] });
  private readonly gcDeleted = new Counter({ name: 'lading_gc_deleted_blobs_total', help: 'Blobs garbage collection deleted', registers: [this.registry] });
  private readonly gcFreed = new Counter({ name: 'lading_gc_freed_bytes_total', help: 'Bytes of the blobs deleted', registers: [this.registry] });
  private readonly gcSeconds = new Histogram({
    name: 'lading_gc_duration_seconds',
    help: 'Time a sweep held the store alone',
    buckets: SLOW_BUCKETS,
    registers: [this.registry],
  });

  readonly api: ApiObserver = {
    request: (method, route, status, seconds) => this.requests.observe(method, route, status, seconds),
    responseCache: (kind, hit) => (hit ? this.cacheHits.labels(kind) : this.cacheMisses.labels(kind)).inc(),
  };

  readonly operationObserver: OperationObserver = (operation, outcome, fields, seconds) => {
    this.operations.inc({ operation, outcome });
    this.operationSeconds.observe({ operation }, seconds);
    if (outcome === 'success' && typeof fields.bytes === 'number') this.operationBytes.inc({ operation }, fields.bytes);
  };

  readonly gcObserver: GcObserver = (deleted, seconds) => {
    this.gcRuns.inc();
    this.gcDeleted.inc(deleted.length);
    this.gcSeconds.observe(seconds);
  };

  constructor(options: { processMetrics?: boolean } = {}) {
    // process_cpu_seconds_total, process_resident_memory_bytes, nodejs_eventloop_lag_seconds…
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Every sample carries `replica="<id>"` from now on, so that one Prometheus scraping several
   * replicas tells their series apart; a daemon alone has no label to add.
   */
  labelReplica(id: string): void {
    this.registry.setDefaultLabels({ replica: id });
  }

  /** The store gauges: images, image records, blobs and their bytes (counted at most every `blobIntervalMs`). */
  watchStore(view: StoreView, blobIntervalMs: number): void {
    let counted: { generation: number; targets: number; records: number } | undefined;
    const counts = async (): Promise<{ targets: number; records: number }> => {
      const generation = view.generation;
      if (counted?.generation !== generation) counted = { generation, targets: await view.countTargets(), records: await view.countRecords() };
      return counted;
    };
    const totals = new BlobTotals(() => view.listBlobs(), blobIntervalMs);
    const registers = [this.registry];
    new Gauge({ name: 'lading_images', help: 'Images: distinct targets, however many names each has', registers, async collect() {
      this.set((await counts()).targets);
    } });
    new Gauge({ name: 'lading_image_records', help: 'Image records: names, and one per dangling image', registers, async collect() {
      this.set((await counts()).records);
    } });
    new Gauge({ name: 'lading_blobs', help: 'Blobs in the store (counted at most every interval)', registers, async collect() {
      this.set((await totals.read()).blobs);
    } });
    new Gauge({ name: 'lading_blob_bytes', help: 'Bytes of the blobs in the store (counted at most every interval)', registers, async collect() {
      this.set((await totals.read()).bytes);
    } });
  }

  /** The registry tier's local cache: its lookups and evictions, and the bytes it keeps. */
  watchBlobCache(cache: { readonly size: number; readonly maxBytes: number; observer: BlobCacheObserver | undefined }): void {
    const registers = [this.registry];
    const hits = new Counter({ name: 'lading_blob_cache_hits_total', help: 'Blob cache lookups that found the blob', registers });
    const misses = new Counter({ name: 'lading_blob_cache_misses_total', help: 'Blob cache lookups that had to ask the registry', registers });
    const evictions = new Counter({ name: 'lading_blob_cache_evictions_total', help: 'Blobs dropped from the cache', registers });
    const evicted = new Counter({ name: 'lading_blob_cache_evicted_bytes_total', help: 'Bytes of the blobs dropped from the cache', registers });
    new Gauge({ name: 'lading_blob_cache_bytes', help: 'Bytes the blob cache keeps', registers, collect() {
      this.set(cache.size);
    } });
    new Gauge({ name: 'lading_blob_cache_max_bytes', help: 'The blob cache bound (--blob-cache-size)', registers, collect() {
      this.set(cache.maxBytes);
    } });
    cache.observer = {
      lookup: (hit) => (hit ? hits : misses).inc(),
      evicted: (size) => {
        evictions.inc();
        evicted.inc(size);
      },
    };
  }

  /**
   * `content`, counting the bytes of each blob deleted into `lading_gc_freed_bytes_total` (garbage
   * collection is what deletes blobs; it knows digests, the store knows sizes).
   */
  measuringDeletes(content: ContentStore): ContentStore {
    return {
      info: (digest) => content.info(digest),
      has: (digest) => content.has(digest),
      readBytes: (digest, maxBytes) => content.readBytes(digest, maxBytes),
      createReadStream: (digest): Readable => content.createReadStream(digest),
      ...(content.blobFile ? { blobFile: (digest: string) => content.blobFile!(digest) } : {}),
      openWriter: () => content.openWriter(),
      writeBytes: (data, expected) => content.writeBytes(data, expected),
      delete: async (digest) => {
        const info = await content.info(digest);
        const deleted = await content.delete(digest);
        if (deleted && info) this.gcFreed.inc(info.size);
        return deleted;
      },
      list: () => content.list(),
      cleanIngest: () => content.cleanIngest(),
      ...(content.holds ? { holds: content.holds } : {}),
    };
  }

  /** The exposition: Prometheus text format 0.0.4. */
  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
