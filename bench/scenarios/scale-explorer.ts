// The explorer's image list on the scale scenario's large store (issue 16): the first page after
// start, a page deep in the list and a search, each as the page asks for it (its JSON API), against
// what the Engine API answers for the same question on the same daemon.
import { request } from '../../test/support/daemon.js';
import { startLadingd, type BenchDaemon } from '../lib/ladingd.js';
import { fmt, met, type Row } from '../lib/report.js';
import { interleaved, pairedRatio } from '../lib/rounds.js';
import { LIST_REPO, type ScaleStore } from '../lib/scale-store.js';
import { median } from '../lib/stats.js';
import { API } from './bench.js';

/** As long as the scale scenario gives its first list: every image's facts are read once. */
const FIRST_LIST_TIMEOUT_MS = 300_000;
/** The explorer page's own page size. */
const PAGE = 50;
/** Sequential requests a round for the warm measures. */
const PER_ROUND = 10;

interface Timed {
  ms: number;
  bytes: number;
  total?: number;
}

interface ExplorerDaemon extends BenchDaemon {
  /** http://127.0.0.1:PORT/_lading/ui/api */
  api: string;
}

/** A ladingd on `dataRoot` with the explorer on a free loopback port, without a token. */
async function startWithExplorer(dataRoot: string): Promise<ExplorerDaemon> {
  const d = await startLadingd(dataRoot, ['--ui', '127.0.0.1:0', '--ui-token=false']);
  const deadline = Date.now() + 10_000;
  let m: RegExpExecArray | null;
  while (!(m = /Lading explorer: open (http:\/\/\S+?)\/_lading\/ui\//.exec(d.daemon.output())) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  if (!m) {
    await d.daemon.stop();
    throw new Error(`ladingd --ui printed no explorer URL\n${d.daemon.logs()}`);
  }
  return { ...d, api: `${m[1]}/_lading/ui/api` };
}

async function timedFetch(url: string): Promise<Timed> {
  const t0 = performance.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(FIRST_LIST_TIMEOUT_MS) });
  const body = Buffer.from(await res.arrayBuffer());
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status} ${body.toString().slice(0, 300)}`);
  return { ms, bytes: body.length, total: (JSON.parse(body.toString()) as { total: number }).total };
}

async function timedRequest(socket: string, urlPath: string): Promise<Timed> {
  const t0 = performance.now();
  const res = await request(socket, urlPath, { timeoutMs: FIRST_LIST_TIMEOUT_MS });
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`GET ${urlPath}: HTTP ${res.status} ${res.text.slice(0, 300)}`);
  return { ms, bytes: res.body.length, total: res.json<unknown[]>().length };
}

/** `PER_ROUND` sequential calls of `one(k)`: the median time, the bytes and totals of the last. */
async function sequential(one: (k: number) => Promise<Timed>, start: number): Promise<Timed & { max: number; totals: Set<number> }> {
  const runs: Timed[] = [];
  for (let k = 0; k < PER_ROUND; k++) runs.push(await one(start + k));
  const last = runs[runs.length - 1] as Timed;
  return { ms: median(runs.map((r) => r.ms)), max: Math.max(...runs.map((r) => r.ms)), bytes: last.bytes, totals: new Set(runs.map((r) => r.total ?? -1)) };
}

/**
 * A search word of LIST_REPO's tags matching 10 images (`t000100`…`t000109` for k = 10), new for
 * each k below 90 so that no answer is the one before; tags of other repositories and hex IDs never
 * hold a `t` followed by digits.
 */
function searchWord(k: number): string {
  return `${LIST_REPO}:t000${10 + (k % 90)}`;
}

/** The Engine API's server-side way to the same 10 images: a reference filter, new each time. */
function referencePath(k: number): string {
  return `${API}/images/json?filters=${encodeURIComponent(JSON.stringify({ reference: [`${searchWord(k)}*`] }))}`;
}

export async function explorerRows(b: { rounds: number; log(msg: string): void }, scenario: string, store: ScaleStore): Promise<Row[]> {
  const rows: Row[] = [];
  const n = store.count.toLocaleString('en-US');

  // Start to first page, each on a new daemon: what someone opening the explorer on a daemon that
  // just started waits for. Its baseline: `docker images`' first list (all images) after a start.
  b.log(`explorer: first page after start vs first GET /images/json after start, ${n} images`);
  const firsts = await interleaved(
    b.rounds,
    {
      explorer: async () => {
        const d = await startWithExplorer(store.dataRoot);
        try {
          return await timedFetch(`${d.api}/images?offset=0&limit=${PAGE}`);
        } finally {
          await d.daemon.stop();
        }
      },
      'images/json': async () => {
        const d = await startLadingd(store.dataRoot);
        try {
          return await timedRequest(d.socket, `${API}/images/json`);
        } finally {
          await d.daemon.stop();
        }
      },
    },
    b.log,
    (_, r) => `${fmt.ms(r.ms)}, ${r.bytes} bytes`,
  );
  const first = median(firsts.explorer.map((r) => r.ms));
  const firstTotal = firsts.explorer[0]?.total;
  rows.push({
    scenario,
    measure: `explorer: first page of the image list after start (${PAGE} of ${n})`,
    lading: fmt.ms(first),
    baseline: `${fmt.ms(median(firsts['images/json'].map((r) => r.ms)))} first GET /images/json (all, ${fmt.mb(firsts['images/json'][0]?.bytes ?? NaN)})`,
    ratio: fmt.ratio(pairedRatio(firsts.explorer, firsts['images/json'], (r) => r.ms)),
    target: '< 2 s',
    met: met(first < 2_000 && firstTotal === store.count),
    note: `GET /_lading/ui/api/images?offset=0&limit=${PAGE} on a daemon just started (ready on /_ping), ${firsts.explorer[0]?.bytes} bytes answered, total ${firstTotal}; target: the scenario's start bound, as a \`docker images\` a user waits for once. Each side on its own new daemon, rounds rotated.`,
  });

  let d: ExplorerDaemon | undefined;
  try {
    d = await startWithExplorer(store.dataRoot);
    const daemon = d;
    await timedFetch(`${daemon.api}/images?offset=0&limit=${PAGE}`);
    let k = 0;
    // Deep pages at offsets 50,000, 50,050…: the order of the stored rows is kept, each page a slice of it.
    const deep = Math.floor(store.count / 2);
    b.log(`explorer: page at offset ${deep} vs the first page, ${PER_ROUND} sequential requests a round`);
    const pages = await interleaved(
      b.rounds,
      {
        deep: () => sequential((i) => timedFetch(`${daemon.api}/images?offset=${deep + (i % 100) * PAGE}&limit=${PAGE}`), (k += PER_ROUND)),
        first: () => sequential(() => timedFetch(`${daemon.api}/images?offset=0&limit=${PAGE}`), 0),
      },
      b.log,
      (_, r) => `p50 ${fmt.ms(r.ms)} max ${fmt.ms(r.max)}`,
    );
    const deepMs = median(pages.deep.map((r) => r.ms));
    rows.push({
      scenario,
      measure: `explorer: a page deep in the list (offset ${deep.toLocaleString('en-US')}, ${PAGE} images)`,
      lading: fmt.ms(deepMs),
      baseline: `${fmt.ms(median(pages.first.map((r) => r.ms)))} first page, same daemon`,
      ratio: fmt.ratio(pairedRatio(pages.deep, pages.first, (r) => r.ms)),
      target: '< 100 ms',
      met: met(deepMs < 100),
      note: `${pages.deep[0]?.bytes} bytes answered; median of per-round medians, ${PER_ROUND} sequential requests a round, worst ${fmt.ms(Math.max(...pages.deep.map((r) => r.max)))}; target: 0.1 s, what reads as instant when paging.`,
    });

    // A search matching 10 images, a new word each request, vs the API's reference filter for them.
    b.log(`explorer: search matching 10 images vs GET /images/json with a reference filter`);
    let s = 0;
    let r = 0;
    const searches = await interleaved(
      b.rounds,
      {
        search: () => sequential((i) => timedFetch(`${daemon.api}/images?search=${encodeURIComponent(searchWord(i))}&offset=0&limit=${PAGE}`), (s += PER_ROUND)),
        reference: () => sequential((i) => timedRequest(daemon.socket, referencePath(i)), (r += PER_ROUND)),
      },
      b.log,
      (_, r) => `p50 ${fmt.ms(r.ms)} max ${fmt.ms(r.max)}`,
    );
    const searchMs = median(searches.search.map((r) => r.ms));
    const found = new Set(searches.search.flatMap((r) => [...r.totals]));
    rows.push({
      scenario,
      measure: `explorer: search matching 10 of ${n} images`,
      lading: fmt.ms(searchMs),
      baseline: `${fmt.ms(median(searches.reference.map((r) => r.ms)))} GET /images/json, reference filter, same images`,
      ratio: fmt.ratio(pairedRatio(searches.search, searches.reference, (r) => r.ms)),
      target: '< 100 ms',
      met: met(searchMs < 100 && found.size === 1 && found.has(10)),
      note: [
        `search=${searchWord(0)} and the like, a new word each request; ${searches.search[0]?.bytes} bytes answered; worst ${fmt.ms(Math.max(...searches.search.map((r) => r.max)))}; target: 0.1 s, a search as one types`,
        found.size === 1 && found.has(10) ? '' : `matched ${[...found].join(', ')} images, not 10`,
      ]
        .filter(Boolean)
        .join('; '),
    });
    return rows;
  } finally {
    await d?.daemon.stop();
  }
}
