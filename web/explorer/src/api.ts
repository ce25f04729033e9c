// The explorer's JSON API (src/explorer/explorer-routes.ts), and how the page writes what it gets.
import { useEffect, useState } from 'preact/hooks';
import type { ImageSummary, Platform } from '../../../src/images/explorer-api-types.js';

// What each route answers: the server's own types (types only, so nothing of the server is bundled).
export type * from '../../../src/images/explorer-api-types.js';

export const API = '/_lading/ui/api';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function getJson<T>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') query.set(k, String(v));
  const q = query.toString();
  const res = await fetch(`${API}${path}${q ? `?${q}` : ''}`, { credentials: 'same-origin' });
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    try {
      message = (JSON.parse(text) as { message: string }).message;
    } catch {
      // plain text
    }
    throw new ApiError(res.status, message);
  }
  return JSON.parse(text) as T;
}

export interface Loaded<T> {
  data?: T;
  error?: string;
  loading: boolean;
}

/** Fetches when `deps` change; the last answer wins. */
export function useApi<T>(path: string | undefined, params: Record<string, string | number | undefined>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<Loaded<T>>({ loading: true });
  useEffect(() => {
    if (!path) return;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    getJson<T>(path, params).then(
      (data) => live && setState({ data, loading: false }),
      (err: Error) => live && setState({ error: err.message, loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return state;
}

/** 1234567 → "1.23 MB", as `docker images` writes sizes (decimal units). */
export function bytes(n: number | undefined): string {
  if (n === undefined || n < 0) return '—';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[i]}`;
}

export function shortId(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

export function when(seconds: number | string | undefined): string {
  if (seconds === undefined || seconds === 0 || seconds === '') return '—';
  const d = typeof seconds === 'number' ? new Date(seconds * 1000) : new Date(seconds);
  return Number.isNaN(d.getTime()) ? String(seconds) : d.toISOString().replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
}

/** 0o755 as `rwxr-xr-x`, with the type letter first. */
export function modeString(kind: string, mode: number): string {
  const type = ({ dir: 'd', symlink: 'l', hardlink: 'h', char: 'c', block: 'b', fifo: 'p' } as Record<string, string>)[kind] ?? '-';
  let s = '';
  for (let i = 8; i >= 0; i--) s += mode & (1 << i) ? 'rwx'[(8 - i) % 3] : '-';
  return type + s;
}

export function platformText(p: Platform | undefined): string {
  return p ? [p.os, p.architecture, p.variant].filter(Boolean).join('/') : '';
}

/** The image's names for a link: its first tag, else its ID. */
export function refOf(img: Pick<ImageSummary, 'id' | 'repoTags'>): string {
  return img.repoTags?.[0] ?? img.id;
}

export function imageHref(ref: string, tab = 'overview', platform?: string): string {
  return `#/image/${tab}/${encodeURIComponent(ref)}${platform ? `?platform=${encodeURIComponent(platform)}` : ''}`;
}
