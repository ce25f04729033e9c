// The bench's results: one row per measure, printed as a Markdown table.

export type Met = 'yes' | 'no' | 'skipped' | 'pending' | 'info';

export interface Row {
  scenario: string;
  measure: string;
  lading: string;
  baseline: string;
  ratio: string;
  target: string;
  met: Met;
  /** Printed under the table, numbered. */
  note?: string;
}

export function table(rows: readonly Row[]): string {
  const notes: string[] = [];
  const body = rows.map((r) => {
    let met: string = r.met;
    if (r.note) {
      notes.push(r.note);
      met += ` (${notes.length})`;
    }
    return [r.scenario, r.measure, r.lading, r.baseline, r.ratio, r.target, met];
  });
  const head = ['scenario', 'measure', 'Lading', 'baseline (same run)', 'ratio', 'target', 'met'];
  const lines = [head, head.map(() => '---'), ...body].map((cells) => `| ${cells.join(' | ')} |`);
  return [...lines, '', ...notes.map((n, i) => `${i + 1}. ${n}`)].join('\n');
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export const fmt = {
  rps: (v: number): string => `${int.format(v)} req/s`,
  ms: (v: number): string => (v >= 100 ? `${int.format(v)} ms` : `${v.toPrecision(2)} ms`),
  mb: (bytes: number): string => `${int.format(bytes / 1e6)} MB`,
  mbps: (bytesPerSecond: number): string => `${int.format(bytesPerSecond / 1e6)} MB/s`,
  us: (v: number): string => `${int.format(v)} µs`,
  ratio: (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}x` : '—'),
};

/** A row with nothing measured: skipped, pending, or failed, and why. */
export function unmeasured(scenario: string, measure: string, target: string, status: Met, note: string): Row {
  return { scenario, measure, lading: '—', baseline: '—', ratio: '—', target, met: status, note };
}

/** `yes` when `ok`, `no` otherwise (NaN, from a failed measure, is `no`). */
export function met(ok: boolean): Met {
  return ok ? 'yes' : 'no';
}
