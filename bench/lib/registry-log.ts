// What docker-registry's log says about the blob transfers it served: each request's "response
// completed" line (logrus text, nanosecond time) gives its end and duration, so its start too, and
// the most blob downloads (or uploads) that ran at once is the evidence that a client moves layers
// in parallel.

export interface BlobGet {
  digest: string;
  /** Epoch milliseconds. */
  start: number;
  end: number;
  bytes: number;
}

/** A blob upload request: a PATCH or PUT to an upload session (a monolithic PUT carries the whole blob). */
export interface BlobUpload {
  method: string;
  /** Epoch milliseconds. */
  start: number;
  end: number;
}

interface Completed {
  method: string;
  uri: string;
  status: number;
  start: number;
  end: number;
  written: number;
}

const COMPLETED = /^time="([^"]+)".*msg="response completed"/;

/** Every "response completed" line of `text` with a readable time and duration. */
function completedRequests(text: string): Completed[] {
  const out: Completed[] = [];
  for (const line of text.split('\n')) {
    const m = COMPLETED.exec(line);
    if (!m) continue;
    // logrus quotes a value with characters such as `:` in it (a blob URI).
    const field = (name: string): string | undefined => {
      const v = new RegExp(`\\b${name.replace(/\./g, '\\.')}=(?:"([^"]*)"|(\\S+))`).exec(line);
      return v?.[1] ?? v?.[2];
    };
    const end = Date.parse(m[1] as string);
    const duration = goDurationMs(field('http.response.duration') ?? '');
    if (!Number.isFinite(end) || !Number.isFinite(duration)) continue;
    out.push({
      method: field('http.request.method') ?? '',
      uri: field('http.request.uri') ?? '',
      status: Number(field('http.response.status')),
      start: end - duration,
      end,
      written: Number(field('http.response.written') ?? NaN),
    });
  }
  return out;
}

/** The successful blob GETs among `text`'s lines. */
export function blobGets(text: string): BlobGet[] {
  const gets: BlobGet[] = [];
  for (const r of completedRequests(text)) {
    const blob = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(r.uri);
    if (r.method !== 'GET' || !blob || (r.status !== 200 && r.status !== 206)) continue;
    gets.push({ digest: blob[1] as string, start: r.start, end: r.end, bytes: r.written });
  }
  return gets;
}

/** The successful PATCHes and PUTs of blob upload sessions among `text`'s lines (not POSTs, which send no bytes). */
export function blobUploads(text: string): BlobUpload[] {
  return completedRequests(text)
    .filter((r) => (r.method === 'PATCH' || r.method === 'PUT') && /\/blobs\/uploads\/[^/?]+(?:\?|$)/.test(r.uri) && r.status >= 200 && r.status < 300)
    .map((r) => ({ method: r.method, start: r.start, end: r.end }));
}

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ns: 1e-6 };

/** Go's time.Duration text (`1m2.5s`, `35.12ms`, `800µs`) in milliseconds; NaN when it is not one. */
export function goDurationMs(text: string): number {
  if (text === '0s') return 0;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|μs|ns)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return Number.NaN;
  return parts.reduce((ms, p) => ms + Number(p[1]) * (UNIT_MS[p[2] as string] as number), 0);
}

/** The most intervals open at one moment (one that ends where another starts does not overlap it). */
export function maxConcurrent(intervals: readonly { start: number; end: number }[]): number {
  const edges = intervals.flatMap((i) => [
    { at: i.start, delta: 1 },
    { at: i.end, delta: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let most = 0;
  for (const e of edges) {
    open += e.delta;
    most = Math.max(most, open);
  }
  return most;
}
