// Reads Prometheus' text exposition format (what GET /metrics answers) into samples a test can look up.
import http from 'node:http';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Every sample line; a line that is neither a comment nor a sample throws. */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

export class Metrics {
  constructor(readonly samples: Sample[]) {}

  /** The one sample of `name` whose labels include `labels`; undefined when there is none. */
  find(name: string, labels: Record<string, string> = {}): number | undefined {
    const found = this.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)}: ${found.length} samples`);
    return found[0]?.value;
  }

  /** Like find, 0 for a counter not yet incremented (prom-client shows no sample for a label set never seen). */
  count(name: string, labels: Record<string, string> = {}): number {
    return this.find(name, labels) ?? 0;
  }

  has(name: string): boolean {
    return this.samples.some((s) => s.name === name);
  }
}

/** GET http://127.0.0.1:port{path}: status, content type and text. */
export function getTcp(port: number, path: string): Promise<{ status: number; contentType: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString() }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer`)));
    req.on('error', reject);
  });
}

/** GET /metrics on the metrics address, parsed. */
export async function scrape(port: number): Promise<Metrics> {
  const res = await getTcp(port, '/metrics');
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status} ${res.text}`);
  return new Metrics(parsePrometheusText(res.text));
}
