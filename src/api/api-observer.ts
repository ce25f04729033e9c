/**
 * What the API server tells whoever measures it (the daemon's metrics, src/metrics/): each request
 * once it is answered, and each answer the response cache gave or had to render. The server calls it
 * only when one is given, so a daemon without metrics pays nothing.
 */

/** The cached answers by what they are (inspect-cache.ts's InspectResponses). */
export type ResponseKind = 'inspect' | 'list' | 'df';

export interface ApiObserver {
  /** `route` is the router's pattern (`/images/(.+)/json`), or `unmatched`; never the raw URL. */
  request(method: string, route: string, status: number, seconds: number): void;
  responseCache(kind: ResponseKind, hit: boolean): void;
}

/** What the request would match under `route` for the pattern of an answer the cache gave. */
export const CACHED_ROUTE: Record<ResponseKind, string> = {
  inspect: '/images/(.+)/json',
  list: '/images/json',
  df: '/system/df',
};

const CACHED_PATH = /^(?:\/v[0-9.]+)?(\/images\/json|\/system\/df)?(?:\?|$)/;

/** The kind of a cacheable answer by its raw URL: the list, disk usage, or else an inspect. */
export function responseKind(url: string): ResponseKind {
  const m = CACHED_PATH.exec(url);
  if (m?.[1] === '/images/json') return 'list';
  if (m?.[1] === '/system/df') return 'df';
  return 'inspect';
}
