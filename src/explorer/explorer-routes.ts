/**
 * The explorer's JSON API, under /_lading/ui/api: it reads the query and calls the ImageExplorer
 * (images/image-explorer.ts), nothing more. An image is named by `ref` (a name or an ID, as
 * `docker image inspect` takes it) and a platform by `platform=os/arch[/variant]`.
 */
import { createReadStream } from 'node:fs';
import { InvalidArgumentError } from '../errors.js';
import { addFilter, parseFilters, type FilterArgs } from '../filters/filter-args.js';
import type { ImageDocument } from '../images/explorer-api-types.js';
import type { ImageExplorer } from '../images/image-explorer.js';
import { normalizePlatform } from '../oci/platform.js';
import type { Platform } from '../oci/types.js';
import type { Router } from '../api/router.js';
import { streamEvents } from './event-stream.js';
import type { ServerResponse } from 'node:http';

const MAX_PAGE = 500;

export function sendJson(res: ServerResponse, doc: unknown): void {
  const body = Buffer.from(JSON.stringify(doc));
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length, 'Cache-Control': 'no-store' });
  res.end(body);
}

/** `linux/arm64/v8` → a platform; undefined when empty. */
export function platformParam(value: string | null): Platform | undefined {
  if (!value) return undefined;
  const [os, architecture, variant] = value.split('/');
  if (!os || !architecture) throw new InvalidArgumentError(`invalid platform ${JSON.stringify(value)}: want os/arch[/variant]`);
  return normalizePlatform({ os, architecture, ...(variant ? { variant } : {}) });
}

function required(query: URLSearchParams, key: string): string {
  const value = query.get(key);
  if (!value) throw new InvalidArgumentError(`missing parameter ${key}`);
  return value;
}

function count(query: URLSearchParams, key: string, fallback: number, max: number): number {
  const raw = query.get(key);
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`invalid ${key} ${JSON.stringify(raw)}`);
  return Math.min(n, max);
}

/** Docker's `filters` JSON, plus `reference=`, `label=` (repeatable) and `dangling=` for a form. */
function listFilters(query: URLSearchParams): FilterArgs {
  const filters = parseFilters(query.get('filters') ?? '');
  for (const ref of query.getAll('reference')) if (ref) addFilter(filters, 'reference', ref);
  for (const label of query.getAll('label')) if (label) addFilter(filters, 'label', label);
  const dangling = query.get('dangling');
  if (dangling) addFilter(filters, 'dangling', dangling);
  return filters;
}

/** `streams` holds the open event streams, which the server ends when it stops. */
export function addExplorerRoutes(router: Router, explorer: ImageExplorer, streams: Set<ServerResponse>): void {
  router.add('GET', '/images', async ({ res, query }) => {
    const page = await explorer.list({
      search: query.get('search') ?? '',
      filters: listFilters(query),
      offset: count(query, 'offset', 0, Number.MAX_SAFE_INTEGER),
      limit: count(query, 'limit', 50, MAX_PAGE),
    });
    sendJson(res, page);
  });

  router.add('GET', '/image', async ({ res, query }) => {
    const ref = required(query, 'ref');
    const platform = platformParam(query.get('platform'));
    const [inspect, graph] = [await explorer.images.inspect(ref, { manifests: true }), await explorer.graph(ref)];
    const chosen = await explorer.platformImage(ref, platform).catch(() => undefined);
    const document = platform ? await explorer.images.inspect(ref, { manifests: false, platform }) : inspect;
    sendJson(res, { ...document, manifests: inspect.manifests, graph, platformManifest: chosen?.manifest.digest } satisfies ImageDocument);
  });

  router.add('GET', '/image/layers', async ({ res, query }) => {
    sendJson(res, await explorer.layers(required(query, 'ref'), platformParam(query.get('platform'))));
  });

  router.add('GET', '/image/tree', async ({ res, query }) => {
    const layer = query.get('layer');
    const platform = platformParam(query.get('platform'));
    sendJson(
      res,
      await explorer.tree(required(query, 'ref'), {
        dir: (query.get('dir') ?? '').replace(/^\/+|\/+$/g, ''),
        ...(platform ? { platform } : {}),
        ...(layer !== null && layer !== '' ? { layer: count(query, 'layer', 0, Number.MAX_SAFE_INTEGER) } : {}),
      }),
    );
  });

  router.add('GET', '/image/efficiency', async ({ res, query }) => {
    const platform = platformParam(query.get('platform'));
    sendJson(res, await explorer.efficiency(required(query, 'ref'), { limit: count(query, 'limit', 100, 5000), ...(platform ? { platform } : {}) }));
  });

  router.add('GET', '/image/supply-chain', async ({ res, query }) => {
    sendJson(res, await explorer.supplyChain(required(query, 'ref')));
  });

  router.add('GET', '/image/statement', async ({ res, query }) => {
    const body = await explorer.statement(required(query, 'ref'), required(query, 'digest'));
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
    res.end(body);
  });

  // Streamed from the kept listing: a layer of a million files is never one JSON document in memory.
  router.add('GET', '/layers/(sha256:[a-f0-9]{64})/files', async ({ res, params }) => {
    const file = await explorer.layerListing(params[0] ?? '');
    res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-store' });
    await new Promise<void>((resolve, reject) => {
      const stream = createReadStream(file);
      stream.on('error', reject);
      res.on('close', () => {
        stream.destroy();
        resolve();
      });
      stream.pipe(res).on('finish', resolve);
    });
  });

  router.add('GET', '/compare', async ({ res, query }) => {
    const pa = platformParam(query.get('platformA'));
    const pb = platformParam(query.get('platformB'));
    sendJson(
      res,
      await explorer.compare({ ref: required(query, 'a'), ...(pa ? { platform: pa } : {}) }, { ref: required(query, 'b'), ...(pb ? { platform: pb } : {}) }),
    );
  });

  router.add('GET', '/disk-usage', async ({ res }) => {
    sendJson(res, await explorer.diskUsage());
  });

  router.add('GET', '/events', ({ res }) => {
    streams.add(res);
    res.on('close', () => streams.delete(res));
    streamEvents(res, explorer.images.events);
  });
}
