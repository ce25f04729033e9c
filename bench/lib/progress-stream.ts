// A pull's or push's progress stream, as the docker CLI reads it: a POST over a unix socket whose
// JSON lines are read to the end as they come.
import http from 'node:http';

const TIMEOUT_MS = 20 * 60_000;

export interface StreamAnswer {
  status: number;
  /** The end of the stream (the last status lines, or the error). */
  tail: string;
  /** How many messages carried each `status` text (progress bars included). */
  statuses: Map<string, number>;
}

/** POST `urlPath` and read its progress stream to the end; the stream is counted, never kept whole. */
export function postForStream(socket: string, urlPath: string, headers: Record<string, string> = {}): Promise<StreamAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, path: urlPath, method: 'POST', headers: { Host: 'docker', ...headers } }, (res) => {
      let tail = '';
      let partial = '';
      const statuses = new Map<string, number>();
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        tail = (tail + text).slice(-4096);
        const lines = (partial + text).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) countStatus(statuses, line);
      });
      res.on('error', reject);
      res.on('end', () => {
        countStatus(statuses, partial);
        resolve({ status: res.statusCode ?? 0, tail, statuses });
      });
    });
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`POST ${urlPath}: no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

function countStatus(statuses: Map<string, number>, line: string): void {
  if (!line.trim()) return;
  try {
    const status = (JSON.parse(line) as { status?: unknown }).status;
    if (typeof status === 'string') statuses.set(status, (statuses.get(status) ?? 0) + 1);
  } catch {
    // not JSON: the tail shows it
  }
}
