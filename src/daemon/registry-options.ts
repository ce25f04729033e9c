/**
 * The daemon's registry options, as dockerd names them: `--insecure-registry` and
 * `--registry-mirror` (repeatable), `--max-concurrent-downloads`, `--max-concurrent-uploads`, and
 * their daemon.json keys; plus Lading's `--registry-certs-dir` (dockerd reads
 * /etc/docker/certs.d; Lading reads `$XDG_CONFIG_HOME/lading/certs.d` unless told otherwise) and
 * `--registry-response-timeout` (dockerd waits for a silent registry without end).
 * Kept apart from flags.ts and config.ts, which only hand over to it.
 */
import * as path from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { RegistryConfig } from '../registry/registry-config.js';
import {
  DEFAULT_MAX_CONCURRENT_DOWNLOADS,
  DEFAULT_MAX_CONCURRENT_UPLOADS,
  DEFAULT_RESPONSE_TIMEOUT_MS,
  type RegistryServiceOptions,
} from '../registry/registry-service.js';
import { formatGoDuration, parseDurationMs } from '../util/go-duration.js';

export interface RegistryFlags {
  insecureRegistries?: string[];
  mirrors?: string[];
  maxConcurrentDownloads?: number;
  maxConcurrentUploads?: number;
  certsDir?: string;
  responseTimeoutMs?: number;
}

export type RegistrySettings = Required<
  Pick<RegistryServiceOptions, 'insecureRegistries' | 'mirrors' | 'maxConcurrentDownloads' | 'maxConcurrentUploads' | 'certsDir' | 'responseTimeoutMs'>
>;

export const REGISTRY_USAGE = `      --insecure-registry list         Enable insecure registry communication: plain HTTP, TLS not verified
                                       (host:port or CIDR; 127.0.0.0/8 and ::1 always are)
      --max-concurrent-downloads int   Set the max concurrent downloads (default 3)
      --max-concurrent-uploads int     Set the max concurrent uploads (default 5)
      --registry-certs-dir string      CA certificates and client keys per registry: DIR/<host:port>/*.crt,
                                       *.cert, *.key (default: $XDG_CONFIG_HOME/lading/certs.d)
      --registry-mirror list           Preferred Docker registry mirror
      --registry-response-timeout duration
                                       Fail a registry request whose response headers do not come within
                                       this time (the body may take as long as it keeps coming); 0 for
                                       never (default 30s)
`;

const FLAG_KEYS: Record<string, keyof RegistryFlags> = {
  '--insecure-registry': 'insecureRegistries',
  '--registry-mirror': 'mirrors',
  '--max-concurrent-downloads': 'maxConcurrentDownloads',
  '--max-concurrent-uploads': 'maxConcurrentUploads',
  '--registry-certs-dir': 'certsDir',
  '--registry-response-timeout': 'responseTimeoutMs',
};

const FILE_KEYS: Record<string, keyof RegistryFlags> = {
  'insecure-registries': 'insecureRegistries',
  'registry-mirrors': 'mirrors',
  'max-concurrent-downloads': 'maxConcurrentDownloads',
  'max-concurrent-uploads': 'maxConcurrentUploads',
  'registry-certs-dir': 'certsDir',
  'registry-response-timeout': 'responseTimeoutMs',
};

export const REGISTRY_FILE_KEYS: readonly string[] = Object.keys(FILE_KEYS);

export function isRegistryFlag(name: string): boolean {
  return name in FLAG_KEYS;
}

export function parseRegistryFlag(flags: RegistryFlags, name: string, inline: string | undefined, next: () => string | undefined): void {
  const value = inline ?? next();
  if (value === undefined) throw new InvalidArgumentError(`flag needs an argument: ${name}`);
  const key = FLAG_KEYS[name];
  if (key === 'insecureRegistries' || key === 'mirrors') flags[key] = [...(flags[key] ?? []), value];
  else if (key === 'maxConcurrentDownloads' || key === 'maxConcurrentUploads') flags[key] = parseCount(value, name);
  else if (key === 'certsDir') flags.certsDir = value;
  else if (key === 'responseTimeoutMs') flags.responseTimeoutMs = parseDurationMs(value, `invalid argument ${JSON.stringify(value)} for "${name}" flag`);
}

function parseCount(value: string, name: string): number {
  if (!/^[+-]?\d+$/.test(value.trim())) {
    throw new InvalidArgumentError(`invalid argument ${JSON.stringify(value)} for "${name}" flag: strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
  }
  return Number(value);
}

/** Go's %v of a value: slices as `[a b]`. */
function goValue(v: unknown): string {
  return Array.isArray(v) ? `[${v.join(' ')}]` : String(v);
}

/**
 * Flags over daemon.json over defaults. A key set in both is refused as dockerd refuses it;
 * invalid registries and mirrors are refused at start with dockerd's texts.
 */
export function resolveRegistry(
  flags: RegistryFlags,
  file: Record<string, unknown>,
  configFile: string | undefined,
  configHome: string,
): RegistrySettings {
  const fromFile: RegistryFlags = {};
  const conflicts: string[] = [];
  for (const [jsonKey, key] of Object.entries(FILE_KEYS)) {
    const value = file[jsonKey];
    if (value === undefined) continue;
    const where = `unable to configure the daemon with file ${configFile ?? 'daemon.json'}`;
    if (key === 'insecureRegistries' || key === 'mirrors') {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
        throw new InvalidArgumentError(`${where}: ${jsonKey} must be a list of strings`);
      }
      fromFile[key] = value as string[];
    } else if (key === 'maxConcurrentDownloads' || key === 'maxConcurrentUploads') {
      if (typeof value !== 'number' || !Number.isInteger(value)) throw new InvalidArgumentError(`${where}: ${jsonKey} must be an integer`);
      fromFile[key] = value;
    } else if (key === 'certsDir') {
      if (typeof value !== 'string') throw new InvalidArgumentError(`${where}: ${jsonKey} must be a string`);
      fromFile.certsDir = value;
    } else if (key === 'responseTimeoutMs') {
      // As the other durations of daemon.json: a Go duration string, or whole seconds.
      if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) fromFile.responseTimeoutMs = parseDurationMs(String(value), `${where}: ${jsonKey}`);
      else if (typeof value === 'string') fromFile.responseTimeoutMs = parseDurationMs(value, `${where}: ${jsonKey}`);
      else throw new InvalidArgumentError(`${where}: ${jsonKey} must be a duration`);
    }
    const fromFlag = key === 'responseTimeoutMs' && flags.responseTimeoutMs !== undefined ? formatGoDuration(flags.responseTimeoutMs) : flags[key];
    if (fromFlag !== undefined) conflicts.push(`${jsonKey}: (from flag: ${goValue(fromFlag)}, from file: ${goValue(value)})`);
  }
  if (conflicts.length > 0) {
    throw new InvalidArgumentError(`the following directives are specified both as a flag and in the configuration file: ${conflicts.join(', ')}`);
  }
  const merged = { ...fromFile, ...definedOnly(flags) };
  const downloads = merged.maxConcurrentDownloads ?? DEFAULT_MAX_CONCURRENT_DOWNLOADS;
  const uploads = merged.maxConcurrentUploads ?? DEFAULT_MAX_CONCURRENT_UPLOADS;
  if (downloads < 0) throw new InvalidArgumentError(`invalid max concurrent downloads: ${downloads}`);
  if (uploads < 0) throw new InvalidArgumentError(`invalid max concurrent uploads: ${uploads}`);
  const settings: RegistrySettings = {
    insecureRegistries: merged.insecureRegistries ?? [],
    mirrors: merged.mirrors ?? [],
    // 0 leaves the default, as dockerd's unset value does.
    maxConcurrentDownloads: downloads || DEFAULT_MAX_CONCURRENT_DOWNLOADS,
    maxConcurrentUploads: uploads || DEFAULT_MAX_CONCURRENT_UPLOADS,
    certsDir: path.resolve(merged.certsDir ?? path.join(configHome, 'lading', 'certs.d')),
    responseTimeoutMs: merged.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS,
  };
  // Validates insecure registries and mirrors now, so a bad one stops the daemon at start.
  new RegistryConfig(settings);
  return settings;
}

function definedOnly(flags: RegistryFlags): RegistryFlags {
  return Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) as RegistryFlags;
}
