/**
 * API request counts and latencies, kept in plain numbers on the request path and handed to the
 * registry when scraped. prom-client hashes the labels of every `inc` and `observe` (sorting their
 * names, joining their values): twice per cached inspect, that cost the hot path a quarter of its
 * rate; here a request is one Map lookup by a joined key and a short bucket search.
 */
import type { Metric, Registry } from 'prom-client';

/** What the registry reads from a metric's `get` when it writes the exposition. */
interface Snapshot {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: Array<{ metricName?: string; labels: Record<string, string | number>; value: number }>;
}

interface Entry {
  labels: { method: string; route: string; status: string };
  count: number;
  sum: number;
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  buckets: number[];
}

export class RequestStats {
  private readonly entries = new Map<string, Entry>();

  constructor(
    registry: Registry,
    private readonly names: { counter: string; histogram: string },
    private readonly bounds: readonly number[],
  ) {
    // prom-client takes any object with a name and a `get` giving samples; its types want its classes.
    registry.registerMetric({ name: names.counter, get: async () => this.counter() } as unknown as Metric);
    registry.registerMetric({ name: names.histogram, get: async () => this.histogram() } as unknown as Metric);
  }

  observe(method: string, route: string, status: number, seconds: number): void {
    const statusClass = status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
    const key = `${method} ${statusClass} ${route}`;
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = { labels: { method, route, status: statusClass }, count: 0, sum: 0, buckets: new Array<number>(this.bounds.length + 1).fill(0) };
      this.entries.set(key, entry);
    }
    entry.count++;
    entry.sum += seconds;
    let i = 0;
    while (i < this.bounds.length && seconds > this.bounds[i]!) i++;
    entry.buckets[i]!++;
  }

  private counter(): Snapshot {
    return {
      name: this.names.counter,
      help: 'Docker API requests answered, by method, route pattern and status class',
      type: 'counter',
      aggregator: 'sum',
      values: [...this.entries.values()].map((e) => ({ labels: e.labels, value: e.count })),
    };
  }

  private histogram(): Snapshot {
    const values: Snapshot['values'] = [];
    const name = this.names.histogram;
    for (const e of this.entries.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += e.buckets[i]!;
        values.push({ metricName: `${name}_bucket`, labels: { le, ...e.labels }, value: cumulative });
      });
      values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf', ...e.labels }, value: e.count });
      values.push({ metricName: `${name}_sum`, labels: e.labels, value: e.sum });
      values.push({ metricName: `${name}_count`, labels: e.labels, value: e.count });
    }
    return {
      name,
      help: 'Time to answer a Docker API request (a streamed answer: until its end)',
      type: 'histogram',
      aggregator: 'sum',
      values,
    };
  }
}
