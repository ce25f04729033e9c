import { arch as processArch } from 'node:process';
import type { Platform } from './types.js';

/**
 * Platform normalization and matching, with containerd's semantics (platforms.Normalize,
 * OnlyStrict for a requested platform, and the host preference used when none is requested).
 */

/**
 * containerd's platforms.Normalize (containerd/platforms v1.0.0-rc.1): lowercase, architecture
 * aliases resolved, arm variants spelled `vN`, an empty OS taken to be the host's (linux), `macos`
 * spelled `darwin`. Keys in Go's field order; optional ones only when set.
 */
export function normalizePlatform(p: Platform): Platform {
  const [architecture, variant] = normalizeArch(p.architecture ?? '', p.variant ?? '');
  let os = (p.os ?? '').toLowerCase();
  if (os === '') os = 'linux';
  if (os === 'macos') os = 'darwin';
  const out: Platform = { architecture, os };
  if (p['os.version']) out['os.version'] = p['os.version'];
  if (p['os.features'] && p['os.features'].length > 0) out['os.features'] = p['os.features'];
  if (variant) out.variant = variant;
  return out;
}

function normalizeArch(rawArch: string, rawVariant: string): [string, string] {
  let arch = rawArch.toLowerCase();
  let variant = rawVariant.toLowerCase();
  switch (arch) {
    case 'i386':
      arch = '386';
      variant = '';
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      arch = 'amd64';
      if (variant === 'v1') variant = '';
      break;
    case 'aarch64':
    case 'arm64':
      arch = 'arm64';
      if (variant === '8' || variant === 'v8' || variant === 'v8.0') variant = '';
      else if (variant === '9' || variant === '9.0' || variant === 'v9.0') variant = 'v9';
      break;
    case 'armhf':
      arch = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      arch = 'arm';
      variant = 'v6';
      break;
    case 'arm':
      if (variant === '' || variant === '7') variant = 'v7';
      else if (variant === '5' || variant === '6' || variant === '8') variant = `v${variant}`;
      break;
  }
  return [arch, variant];
}

type ConfigPlatformFields = Partial<Record<'architecture' | 'os' | 'variant' | 'os.version' | 'os.features', unknown>>;

/** The platform an image config declares, as written (containerd normalizes it where it compares). */
export function configPlatform(config: ConfigPlatformFields): Platform {
  const text = (value: unknown): string => (typeof value === 'string' ? value : '');
  const p: Platform = { architecture: text(config.architecture), os: text(config.os) };
  const osVersion = text(config['os.version']);
  if (osVersion) p['os.version'] = osVersion;
  const features = config['os.features'];
  if (Array.isArray(features) && features.length > 0) {
    p['os.features'] = features.filter((f): f is string => typeof f === 'string');
  }
  const variant = text(config.variant);
  if (variant) p.variant = variant;
  return p;
}

export function hostPlatform(): Platform {
  const architecture = ARCH_FROM_NODE[processArch] ?? processArch;
  return normalizePlatform({ os: 'linux', architecture });
}

const ARCH_FROM_NODE: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm' };

/** `linux/arm64/v8`-style text, as containerd's platforms.Format writes it. */
export function formatPlatform(p: Platform): string {
  return [p.os || 'unknown', p.architecture, p.variant].filter((part) => part).join('/');
}

export interface PlatformMatcher {
  match(p: Platform): boolean;
  /** True when `a` is preferred over `b`. */
  less(a: Platform, b: Platform): boolean;
}

/** Exactly the requested platform (after normalization), as containerd's OnlyStrict. */
export function strictMatcher(requested: Platform): PlatformMatcher {
  const want = normalizePlatform(requested);
  const match = (p: Platform): boolean => samePlatform(normalizePlatform(p), want);
  return { match, less: (a, b) => match(a) && !match(b) };
}

/**
 * Any of `requested` (each exactly, after normalization), the host's preference ranking them: Docker
 * 29's matchAnyWithPreference for a save or load of several platforms; everything when none.
 */
export function anyOfMatcher(requested: readonly Platform[], preferred: PlatformMatcher = hostPreferenceMatcher()): PlatformMatcher {
  const wanted = requested.map(strictMatcher);
  return { match: (p) => wanted.length === 0 || wanted.some((m) => m.match(p)), less: preferred.less };
}

/**
 * Everything matches, the host's platforms first: what Docker uses when no platform is requested.
 * On amd64, 386 images also run, after amd64 ones; on arm64, arm/v8..v5 after arm64.
 */
export function hostPreferenceMatcher(host: Platform = hostPlatform()): PlatformMatcher {
  const ranked = compatiblePlatforms(host);
  const rank = (p: Platform): number => {
    const n = normalizePlatform(p);
    const i = ranked.findIndex((candidate) => samePlatform(n, candidate));
    return i < 0 ? ranked.length : i;
  };
  return { match: () => true, less: (a, b) => rank(a) < rank(b) };
}

function compatiblePlatforms(host: Platform): Platform[] {
  const list = [host];
  if (host.architecture === 'amd64') list.push({ os: host.os, architecture: '386' });
  if (host.architecture === 'arm64') {
    for (const variant of ['v8', 'v7', 'v6', 'v5']) list.push({ os: host.os, architecture: 'arm', variant });
  }
  return list;
}

function samePlatform(a: Platform, b: Platform): boolean {
  return a.os === b.os && a.architecture === b.architecture && (a.variant ?? '') === (b.variant ?? '');
}

/**
 * containerd's platforms.Only: the platform and the ones it can also run, preferred in that order
 * (amd64 then its lower variants then 386; arm64 then arm/v8 down to arm/v5; arm/vN down to arm/v5).
 */
export function onlyMatcher(requested: Platform): PlatformMatcher {
  const vector = platformVector(normalizePlatform(requested));
  const rank = (p: Platform): number => {
    const n = normalizePlatform(p);
    const i = vector.findIndex((candidate) => samePlatform(n, candidate));
    return i < 0 ? vector.length : i;
  };
  return { match: (p) => rank(p) < vector.length, less: (a, b) => rank(a) < rank(b) };
}

/**
 * Variants past this are nonsense (amd64 has v1-v4, arm v5-v8). containerd would build a list as
 * long as the number asked for: `variant=v999999999` in a query would take the daemon's memory.
 */
const MAX_VARIANT = 64;

function platformVector(p: Platform): Platform[] {
  const vector = [p];
  const version = Math.min(Number.parseInt((p.variant ?? '').replace(/^v/, ''), 10), MAX_VARIANT);
  if (p.architecture === 'amd64') {
    for (let v = version - 1; v >= 1; v--) vector.push(normalizePlatform({ ...p, variant: `v${v}` }));
    vector.push({ os: p.os, architecture: '386' });
  } else if (p.architecture === 'arm') {
    for (let v = version - 1; v >= 5; v--) vector.push({ os: p.os, architecture: 'arm', variant: `v${v}` });
  } else if (p.architecture === 'arm64') {
    vector.push(...platformVector({ os: p.os, architecture: 'arm', variant: p.variant || 'v8' }));
  }
  return vector;
}

/** containerd's platforms.FormatAll: `os(os.version)/arch/variant`. */
export function formatPlatformAll(p: Platform): string {
  const os = p['os.version'] ? `${p.os}(${p['os.version']})` : p.os;
  return formatPlatform({ ...p, os });
}
