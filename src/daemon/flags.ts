import { InvalidArgumentError } from '../errors.js';
import { isLogFormat, isLogLevel, type LogFormat, type LogLevel } from '../util/logger.js';
import { isSecurityFlag, parseSecurityFlag, SECURITY_USAGE, type SecurityFlags } from './security-options.js';
import { METADATA_USAGE } from './metadata-location.js';
import { isRegistryFlag, parseRegistryFlag, REGISTRY_USAGE, type RegistryFlags } from './registry-options.js';
import { BLOB_STORE_USAGE, isBlobStoreFlag, parseBlobStoreFlag, type BlobStoreFlags } from './blob-store-options.js';
import { isUiFlag, parseUiFlag, UI_USAGE, type UiFlags } from './ui-options.js';
import { METRICS_USAGE } from './metrics-options.js';

/** What the command line says; unset options are left to daemon.json and then the defaults. */
export interface Flags {
  hosts: string[];
  dataRoot?: string;
  /** `--metadata`: sqlite or a postgres:// URL (metadata-location.ts). */
  metadata?: string;
  /** `--lease-ttl`: how long a replica's leases outlive it (cluster mode). */
  leaseTtl?: string;
  /** `--gc-interval`: how often a replica reviews GC's shared queue (cluster mode). */
  gcInterval?: string;
  configFile?: string;
  logLevel?: LogLevel;
  logFormat?: LogFormat;
  debug: boolean;
  help: boolean;
  version: boolean;
  /** Socket group, TLS and input limits (security-options.ts). */
  security: SecurityFlags;
  /** Insecure registries, mirrors, download and upload concurrency, registry CAs (registry-options.ts). */
  registry: RegistryFlags;
  /** Where blobs live (blob-store-options.ts). */
  blobStore: BlobStoreFlags;
  /** The explorer's address and token (ui-options.ts). */
  ui: UiFlags;
  /** Where /metrics is served (metrics-options.ts). */
  metricsAddr?: string;
}

export const USAGE = `Usage:  ladingd [OPTIONS]
        ladingd check [--repair] [--data-root DIR]

An image engine that speaks the Docker Engine API. \`ladingd check\` verifies the image store
offline (\`ladingd check --help\`).

Options:
      --config-file string   Daemon configuration file (default: $XDG_CONFIG_HOME/lading/daemon.json)
      --data-root string     Root directory of persistent Lading state (default: $XDG_DATA_HOME/lading)
  -D, --debug                Enable debug mode
  -H, --host list            Daemon socket(s) to connect to: unix:///path or tcp://127.0.0.1:2375
                             (default: unix://$XDG_RUNTIME_DIR/lading/lading.sock)
  -h, --help                 Print usage
      --log-format string    Set the logging format ("text"|"json") (default "text")
  -l, --log-level string     Set the logging level ("debug"|"info"|"warn"|"error"|"fatal") (default "info")
${METADATA_USAGE}  -v, --version              Print version information and quit
${SECURITY_USAGE}${REGISTRY_USAGE}${BLOB_STORE_USAGE}${UI_USAGE}${METRICS_USAGE}`;

const VALUE_FLAGS: Record<string, 'host' | 'dataRoot' | 'metadata' | 'leaseTtl' | 'gcInterval' | 'configFile' | 'logLevel' | 'logFormat' | 'metricsAddr'> = {
  '-H': 'host',
  '--host': 'host',
  '--data-root': 'dataRoot',
  '--metadata': 'metadata',
  '--lease-ttl': 'leaseTtl',
  '--gc-interval': 'gcInterval',
  '--config-file': 'configFile',
  '-l': 'logLevel',
  '--log-level': 'logLevel',
  '--log-format': 'logFormat',
  '--metrics-addr': 'metricsAddr',
};

/** Parses dockerd-style flags: `--flag value`, `--flag=value`, `-H value`. */
export function parseFlags(argv: string[]): Flags {
  const flags: Flags = { hosts: [], debug: false, help: false, version: false, security: {}, registry: {}, blobStore: {}, ui: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (name === '-h' || name === '--help') flags.help = true;
    else if (name === '-v' || name === '--version') flags.version = true;
    else if (name === '-D' || name === '--debug') flags.debug = true;
    else if (name in VALUE_FLAGS) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new InvalidArgumentError(`flag needs an argument: ${name}`);
      const key = VALUE_FLAGS[name];
      if (key === 'host') flags.hosts.push(value);
      else if (key === 'logLevel') flags.logLevel = checkLogLevel(value);
      else if (key === 'logFormat') flags.logFormat = checkLogFormat(value);
      else if (key === 'dataRoot') flags.dataRoot = value;
      else if (key === 'metadata') flags.metadata = value;
      else if (key === 'leaseTtl') flags.leaseTtl = value;
      else if (key === 'gcInterval') flags.gcInterval = value;
      else if (key === 'configFile') flags.configFile = value;
      else if (key === 'metricsAddr') flags.metricsAddr = value;
    } else if (isSecurityFlag(name)) {
      parseSecurityFlag(flags.security, name, eq > 0 ? arg.slice(eq + 1) : undefined, () => argv[++i]);
    } else if (isRegistryFlag(name)) {
      parseRegistryFlag(flags.registry, name, eq > 0 ? arg.slice(eq + 1) : undefined, () => argv[++i]);
    } else if (isBlobStoreFlag(name)) {
      parseBlobStoreFlag(flags.blobStore, name, eq > 0 ? arg.slice(eq + 1) : undefined, () => argv[++i]);
    } else if (isUiFlag(name)) {
      parseUiFlag(flags.ui, name, eq > 0 ? arg.slice(eq + 1) : undefined, () => argv[++i]);
    } else {
      throw new InvalidArgumentError(`unknown flag: ${name}\nSee 'ladingd --help'.`);
    }
  }
  return flags;
}

export function checkLogLevel(value: string): LogLevel {
  if (!isLogLevel(value)) throw new InvalidArgumentError(`unable to parse logging level: ${value}`);
  return value;
}

/** containerd/log's SetFormat, which dockerd calls: text or json. */
export function checkLogFormat(value: string): LogFormat {
  if (!isLogFormat(value)) throw new InvalidArgumentError(`unknown log format: ${value}`);
  return value;
}
