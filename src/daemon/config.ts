import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import type { LogFormat, LogLevel } from '../util/logger.js';
import { DEFAULT_LEASE_TTL_MS, defaultGcIntervalMs, parseMetadataLocation, type MetadataLocation } from './metadata-location.js';
import { parseDurationMs } from '../util/go-duration.js';
import { checkLogFormat, checkLogLevel, type Flags } from './flags.js';
import { resolveSecurity, SECURITY_FILE_KEYS, type SecurityConfig } from './security-options.js';
import { REGISTRY_FILE_KEYS, resolveRegistry, type RegistrySettings } from './registry-options.js';
import { BLOB_STORE_FILE_KEYS, resolveBlobStore, type BlobStoreSettings } from './blob-store-options.js';
import { resolveUi, UI_FILE_KEYS, type UiConfig } from './ui-options.js';
import { resolveMetricsAddress, type MetricsAddress } from './metrics-options.js';

/** The daemon's settings after flags, daemon.json and the embedded defaults are merged. */
export interface DaemonConfig {
  hosts: string[];
  /** Lading's own socket directory, which a start may create; any other socket's directory must exist. */
  defaultSocketDir?: string;
  dataRoot: string;
  /** SQLite in the data root unless a PostgreSQL URL is given; absent is SQLite. */
  metadata?: MetadataLocation;
  /** With PostgreSQL metadata: how long a replica's leases outlive its last heartbeat. */
  leaseTtlMs?: number;
  /** With PostgreSQL metadata: how often this replica reviews GC's shared queue. */
  gcIntervalMs?: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
  configFile?: string;
  /** Socket group, TLS, input limits; the defaults when absent. */
  security?: SecurityConfig;
  /** Insecure registries, mirrors, concurrency, registry CAs; the defaults when absent. */
  registry?: RegistrySettings;
  /** Blobs in a registry (--blob-store); absent: on the data root's disk. */
  blobStore?: BlobStoreSettings;
  /** The explorer (`--ui`); off when absent. */
  ui?: UiConfig;
  /** Where /metrics is served (--metrics-addr); absent: nowhere. */
  metrics?: MetricsAddress;
}

/** The subset of dockerd's daemon.json that Lading reads; other keys are refused, as dockerd does. */
interface DaemonJson {
  hosts?: string[];
  'data-root'?: string;
  metadata?: string;
  'lease-ttl'?: string;
  'gc-interval'?: string;
  'log-level'?: string;
  'log-format'?: string;
  debug?: boolean;
}

const KNOWN_KEYS = new Set(['hosts', 'data-root', 'metadata', 'lease-ttl', 'gc-interval', 'log-level', 'log-format', 'debug', ...SECURITY_FILE_KEYS, ...REGISTRY_FILE_KEYS, ...BLOB_STORE_FILE_KEYS, ...UI_FILE_KEYS, 'metrics-addr']);

/** XDG base directories, falling back to the spec's defaults under the home directory. */
export function xdgDirs(env: NodeJS.ProcessEnv = process.env): { data: string; config: string; runtime: string } {
  const home = env.HOME || homedir();
  return {
    data: env.XDG_DATA_HOME || path.join(home, '.local', 'share'),
    config: env.XDG_CONFIG_HOME || path.join(home, '.config'),
    runtime: env.XDG_RUNTIME_DIR || path.join(env.XDG_STATE_HOME || path.join(home, '.local', 'state')),
  };
}

export function resolveConfig(flags: Flags, env: NodeJS.ProcessEnv = process.env): DaemonConfig {
  const xdg = xdgDirs(env);
  const defaultConfigFile = path.join(xdg.config, 'lading', 'daemon.json');
  const configFile = flags.configFile ?? (existsSync(defaultConfigFile) ? defaultConfigFile : undefined);
  const file = configFile ? readDaemonJson(configFile) : {};

  if (flags.hosts.length > 0 && file.hosts) {
    throw new InvalidArgumentError(
      'the following directives are specified both as a flag and in the configuration file: hosts',
    );
  }
  if (flags.metadata !== undefined && file.metadata !== undefined) {
    throw new InvalidArgumentError(
      'the following directives are specified both as a flag and in the configuration file: metadata',
    );
  }
  if (file.metadata !== undefined && typeof file.metadata !== 'string') {
    throw new InvalidArgumentError(`unable to configure the daemon with file ${configFile}: metadata must be a string`);
  }
  const leaseTtl = flags.leaseTtl ?? file['lease-ttl'];
  const leaseTtlMs = leaseTtl === undefined ? DEFAULT_LEASE_TTL_MS : parseDurationMs(String(leaseTtl), 'invalid lease-ttl');
  const gcInterval = flags.gcInterval ?? file['gc-interval'];
  const defaultSocketDir = path.join(xdg.runtime, 'lading');
  const hosts = flags.hosts.length > 0 ? flags.hosts : (file.hosts ?? [`unix://${path.join(defaultSocketDir, 'lading.sock')}`]);
  const logLevel = flags.debug || file.debug ? 'debug' : (flags.logLevel ?? (file['log-level'] ? checkLogLevel(file['log-level']) : 'info'));
  const logFormat = flags.logFormat ?? (file['log-format'] !== undefined ? checkLogFormat(String(file['log-format'])) : 'text');
  const blobStore = resolveBlobStore(flags.blobStore ?? {}, file as Record<string, unknown>, configFile);
  const security = resolveSecurity(flags.security, file as Record<string, unknown>, configFile, env);
  const ui = resolveUi(flags.ui ?? {}, file as Record<string, unknown>, configFile, security.tls !== undefined);
  const metrics = resolveMetricsAddress(flags.metricsAddr, file as Record<string, unknown>, configFile);
  return {
    hosts,
    defaultSocketDir,
    logFormat,
    dataRoot: path.resolve(flags.dataRoot ?? file['data-root'] ?? path.join(xdg.data, 'lading')),
    metadata: parseMetadataLocation(flags.metadata ?? file.metadata),
    leaseTtlMs,
    gcIntervalMs: gcInterval === undefined ? defaultGcIntervalMs(leaseTtlMs) : parseDurationMs(String(gcInterval), 'invalid gc-interval'),
    logLevel,
    ...(configFile ? { configFile } : {}),
    security,
    registry: resolveRegistry(flags.registry ?? {}, file as Record<string, unknown>, configFile, xdg.config),
    ...(blobStore ? { blobStore } : {}),
    ...(ui ? { ui } : {}),
    ...(metrics ? { metrics } : {}),
  };
}

function readDaemonJson(file: string): DaemonJson {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InvalidArgumentError(`unable to configure the daemon with file ${file}: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError(`unable to configure the daemon with file ${file}: not a JSON object`);
  }
  const unknown = Object.keys(parsed).filter((k) => !KNOWN_KEYS.has(k));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(
      `unable to configure the daemon with file ${file}: the following directives don't match any configuration option: ${unknown.join(', ')}`,
    );
  }
  const json = parsed as DaemonJson;
  if (json.hosts !== undefined && !(Array.isArray(json.hosts) && json.hosts.every((h) => typeof h === 'string'))) {
    throw new InvalidArgumentError(`unable to configure the daemon with file ${file}: hosts must be a list of strings`);
  }
  return json;
}
