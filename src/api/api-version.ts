import { InvalidArgumentError, NotFoundError } from '../errors.js';

/**
 * The API versions Lading speaks: up to 1.51 as Docker Engine 28.5 answers, 1.52 to 1.55 as
 * Docker 29.7 (README, "API versions"). Clients of 28 (1.51) still negotiate down to their own.
 */
export const MIN_API_VERSION = '1.24';
export const MAX_API_VERSION = '1.55';

/** The lowest minimum `DOCKER_MIN_API_VERSION` may set: Docker 20.10's (28.5 stops at 1.24). */
export const LOWEST_MIN_API_VERSION = '1.12';

let minApiVersion = MIN_API_VERSION;

/** The minimum in force: MIN_API_VERSION, or what the daemon's `DOCKER_MIN_API_VERSION` set. */
export function currentMinApiVersion(): string {
  return minApiVersion;
}

/**
 * `DOCKER_MIN_API_VERSION` as dockerd reads it (cmd/dockerd, config.ValidateMinAPIVersion), with
 * Docker 20.10's floor: an invalid value refuses the start in dockerd's words.
 */
export function configureMinApiVersion(value: string | undefined): void {
  if (value === undefined || value === '') {
    minApiVersion = MIN_API_VERSION;
    return;
  }
  const invalid = (why: string): never => {
    throw new Error(`invalid DOCKER_MIN_API_VERSION: ${why}`);
  };
  if (value[0]?.toLowerCase() === 'v') invalid('API version must be provided without "v" prefix');
  if (versionLessThan(value, LOWEST_MIN_API_VERSION)) invalid(`minimum supported API version is ${LOWEST_MIN_API_VERSION}: ${value}`);
  if (compareVersions(value, MAX_API_VERSION) > 0) invalid(`maximum supported API version is ${MAX_API_VERSION}: ${value}`);
  minApiVersion = value;
}

/** Compares dotted versions numerically, part by part, as moby's versions.Compare. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = Number.parseInt(pa[i] ?? '0', 10) || 0;
    const y = Number.parseInt(pb[i] ?? '0', 10) || 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export const versionLessThan = (v: string, other: string): boolean => compareVersions(v, other) < 0;
export const versionAtLeast = (v: string, other: string): boolean => compareVersions(v, other) >= 0;

/** The version a request runs as: the one in its path, or the maximum; out of range is refused. */
export function requestVersion(fromPath: string | undefined): string {
  if (fromPath === undefined || fromPath === '') return MAX_API_VERSION;
  if (versionLessThan(fromPath, minApiVersion)) {
    throw new InvalidArgumentError(
      `client version ${fromPath} is too old. Minimum supported API version is ${minApiVersion}, please upgrade your client to a newer version`,
    );
  }
  if (compareVersions(fromPath, MAX_API_VERSION) > 0) {
    throw new InvalidArgumentError(
      `client version ${fromPath} is too new. Maximum supported API version is ${MAX_API_VERSION}`,
    );
  }
  return fromPath;
}

/**
 * A route Docker 29 added at `since`: Docker 28.5 (the rule up to 1.51) has no such page; 29.7's
 * WithMinimumAPIVersion refuses the versions between with a 400.
 */
export function checkRouteVersion(version: string, route: string, since: string): void {
  if (versionLessThan(version, DOCKER_29_API)) throw new NotFoundError('page not found');
  if (versionLessThan(version, since)) throw new InvalidArgumentError(`${route} requires minimum API version ${since}`);
}

/** The first API version answered as Docker 29.7 rather than 28.5. */
export const DOCKER_29_API = '1.52';
