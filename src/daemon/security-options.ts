/**
 * The daemon's access and hostile-input options: the unix socket's group, TLS on TCP (dockerd's
 * `--tls`, `--tlsverify`, `--tlscacert`, `--tlscert`, `--tlskey` and their daemon.json keys, with
 * dockerd's defaulting rules), and the limits that keep a bad client from exhausting the daemon.
 * Kept apart from flags.ts and config.ts, which only hand over to it.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { DEFAULT_MAX_DECOMPRESSION_RATIO, DEFAULT_MAX_UNPACKED_LAYER_SIZE } from '../layers/compression.js';
import { parseDurationMs } from '../util/go-duration.js';
import { parseByteSize } from '../util/go-size.js';

/** What the command line says about these options; unset ones fall to daemon.json, then defaults. */
export interface SecurityFlags {
  group?: string;
  tls?: boolean;
  tlsVerify?: boolean;
  tlsCaCert?: string;
  tlsCert?: string;
  tlsKey?: string;
  maxUnpackedLayerSize?: number;
  maxDecompressionRatio?: number;
  requestHeaderTimeoutMs?: number;
  uploadIdleTimeoutMs?: number;
}

export interface ListenerTls {
  /** Clients must present a certificate signed by the CA (dockerd's RequireAndVerifyClientCert). */
  verify: boolean;
  caFile: string;
  certFile: string;
  keyFile: string;
}

export interface SecurityConfig {
  /** Group of the unix sockets, a name or a numeric ID; '' for the daemon's own group. */
  socketGroup: string;
  /** False when the group is the default ("docker"), which may be missing: then the daemon's own group. */
  socketGroupExplicit: boolean;
  /** HTTPS on TCP listeners; unix sockets stay plain HTTP, as in dockerd. */
  tls?: ListenerTls;
  /** Bytes a layer may expand to when decompressed (its tar stream). */
  maxUnpackedLayerSize: number;
  /** Past 1 GiB of output, a compressed stream may not expand more than this many times; 0: no limit. */
  maxDecompressionRatio: number;
  /** Time a client has to send a request's headers. */
  requestHeaderTimeoutMs: number;
  /** An upload (a request body) that sends nothing for this long is cut; 0: never. */
  uploadIdleTimeoutMs: number;
}

export const DEFAULT_SOCKET_GROUP = 'docker';
export const DEFAULT_REQUEST_HEADER_TIMEOUT_MS = 60_000;
export const DEFAULT_UPLOAD_IDLE_TIMEOUT_MS = 60_000;

export const DEFAULT_SECURITY_CONFIG: SecurityConfig = {
  socketGroup: DEFAULT_SOCKET_GROUP,
  socketGroupExplicit: false,
  maxUnpackedLayerSize: DEFAULT_MAX_UNPACKED_LAYER_SIZE,
  maxDecompressionRatio: DEFAULT_MAX_DECOMPRESSION_RATIO,
  requestHeaderTimeoutMs: DEFAULT_REQUEST_HEADER_TIMEOUT_MS,
  uploadIdleTimeoutMs: DEFAULT_UPLOAD_IDLE_TIMEOUT_MS,
};

export const SECURITY_USAGE = `  -G, --group string         Group for the unix socket (default "docker", else the daemon's own group)
      --max-decompression-ratio int
                             Refuse a compressed layer or archive that expands past 1 GiB and more than
                             this many times its compressed size; 0 for no limit (default 1000)
      --max-unpacked-layer-size bytes
                             Refuse a layer whose uncompressed tar is larger (default 64GiB)
      --request-header-timeout duration
                             Time a client has to send a request's headers (default 60s)
      --tls                  Use TLS; implied by --tlsverify
      --tlscacert string     Trust certs signed only by this CA (default "~/.docker/ca.pem")
      --tlscert string       Path to TLS certificate file (default "~/.docker/cert.pem")
      --tlskey string        Path to TLS key file (default "~/.docker/key.pem")
      --tlsverify            Use TLS and verify the remote
      --upload-idle-timeout duration
                             Cut an upload that sends no data for this long; 0 for never (default 60s)
`;

type Kind = 'string' | 'bool' | 'size' | 'ratio' | 'duration';
const FLAGS: Record<string, [keyof SecurityFlags, Kind]> = {
  '-G': ['group', 'string'],
  '--group': ['group', 'string'],
  '--tls': ['tls', 'bool'],
  '--tlsverify': ['tlsVerify', 'bool'],
  '--tlscacert': ['tlsCaCert', 'string'],
  '--tlscert': ['tlsCert', 'string'],
  '--tlskey': ['tlsKey', 'string'],
  '--max-unpacked-layer-size': ['maxUnpackedLayerSize', 'size'],
  '--max-decompression-ratio': ['maxDecompressionRatio', 'ratio'],
  '--request-header-timeout': ['requestHeaderTimeoutMs', 'duration'],
  '--upload-idle-timeout': ['uploadIdleTimeoutMs', 'duration'],
};

/** daemon.json keys, as dockerd spells them, and the flag each stands for. */
const FILE_KEYS: Record<string, keyof SecurityFlags> = {
  group: 'group',
  tls: 'tls',
  tlsverify: 'tlsVerify',
  tlscacert: 'tlsCaCert',
  tlscert: 'tlsCert',
  tlskey: 'tlsKey',
  'max-unpacked-layer-size': 'maxUnpackedLayerSize',
  'max-decompression-ratio': 'maxDecompressionRatio',
  'request-header-timeout': 'requestHeaderTimeoutMs',
  'upload-idle-timeout': 'uploadIdleTimeoutMs',
};
export const SECURITY_FILE_KEYS: readonly string[] = Object.keys(FILE_KEYS);

export function isSecurityFlag(name: string): boolean {
  return name in FLAGS;
}

/**
 * Parses one of these flags into `flags`. `inline` is the text after `=`, `next` takes the next
 * argument. Boolean flags take no separate argument (`--tls=false`, as pflag).
 */
export function parseSecurityFlag(flags: SecurityFlags, name: string, inline: string | undefined, next: () => string | undefined): void {
  const spec = FLAGS[name];
  if (!spec) throw new InvalidArgumentError(`unknown flag: ${name}`);
  const [key, kind] = spec;
  if (kind === 'bool') {
    (flags as Record<string, unknown>)[key] = inline === undefined ? true : parseGoBool(inline, name);
    return;
  }
  const value = inline ?? next();
  if (value === undefined) throw new InvalidArgumentError(`flag needs an argument: ${name}`);
  (flags as Record<string, unknown>)[key] = convert(kind, value, `invalid argument ${JSON.stringify(value)} for "${name}" flag`);
}

function convert(kind: Kind, value: string, context: string): string | boolean | number {
  switch (kind) {
    case 'string':
      return value;
    case 'bool':
      return parseGoBool(value, context);
    case 'size':
      return parseByteSize(value, context);
    case 'ratio': {
      if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) {
        throw new InvalidArgumentError(`${context}: not a whole number`);
      }
      return Number(value);
    }
    case 'duration':
      return parseDurationMs(value, context);
  }
}

/** Go's strconv.ParseBool. */
function parseGoBool(value: string, flag: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  const context = flag.startsWith('-') ? `invalid argument ${JSON.stringify(value)} for "${flag}" flag` : flag;
  throw new InvalidArgumentError(`${context}: strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`);
}

/** dockerd's default certificate directory: $DOCKER_CERT_PATH, else $DOCKER_CONFIG, else ~/.docker. */
export function defaultCertPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CERT_PATH || env.DOCKER_CONFIG || path.join(env.HOME || homedir(), '.docker');
}

/**
 * Merges flags, daemon.json (`file`, the parsed object) and defaults as dockerd does: a key set
 * both ways is an error; any explicit tlsverify (true or false) turns TLS on; TLS without an
 * explicit tlsverify verifies clients; the cert and key default to files in the cert path.
 */
export function resolveSecurity(
  flags: SecurityFlags,
  file: Record<string, unknown>,
  configFile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): SecurityConfig {
  const fromFile: SecurityFlags = {};
  const conflicts: string[] = [];
  for (const [jsonKey, key] of Object.entries(FILE_KEYS)) {
    if (!(jsonKey in file)) continue;
    const value = file[jsonKey];
    const kind = Object.values(FLAGS).find(([k]) => k === key)?.[1] ?? 'string';
    const context = `unable to configure the daemon with file ${configFile}: ${jsonKey}`;
    (fromFile as Record<string, unknown>)[key] = fileValue(kind, value, context);
    if (flags[key] !== undefined) conflicts.push(jsonKey);
  }
  if (conflicts.length > 0) {
    throw new InvalidArgumentError(
      `the following directives are specified both as a flag and in the configuration file: ${conflicts.join(', ')}`,
    );
  }
  const pick = <K extends keyof SecurityFlags>(key: K): SecurityFlags[K] => flags[key] ?? fromFile[key];

  const group = pick('group');
  const config: SecurityConfig = {
    socketGroup: group ?? DEFAULT_SOCKET_GROUP,
    socketGroupExplicit: group !== undefined && group !== DEFAULT_SOCKET_GROUP,
    maxUnpackedLayerSize: pick('maxUnpackedLayerSize') ?? DEFAULT_MAX_UNPACKED_LAYER_SIZE,
    maxDecompressionRatio: pick('maxDecompressionRatio') ?? DEFAULT_MAX_DECOMPRESSION_RATIO,
    requestHeaderTimeoutMs: pick('requestHeaderTimeoutMs') ?? DEFAULT_REQUEST_HEADER_TIMEOUT_MS,
    uploadIdleTimeoutMs: pick('uploadIdleTimeoutMs') ?? DEFAULT_UPLOAD_IDLE_TIMEOUT_MS,
  };
  if (config.requestHeaderTimeoutMs <= 0) throw new InvalidArgumentError('request-header-timeout must be positive');

  const verifySetting = pick('tlsVerify');
  const tls = verifySetting !== undefined ? true : (pick('tls') ?? false);
  if (tls) {
    const certPath = defaultCertPath(env);
    const orDefault = (explicit: string | undefined, name: string, dropIfMissing: boolean): string => {
      if (explicit !== undefined) return explicit;
      const candidate = path.join(certPath, name);
      return dropIfMissing && !existsSync(candidate) ? '' : candidate;
    };
    config.tls = {
      verify: verifySetting ?? true,
      caFile: orDefault(pick('tlsCaCert'), 'ca.pem', false),
      certFile: orDefault(pick('tlsCert'), 'cert.pem', true),
      keyFile: orDefault(pick('tlsKey'), 'key.pem', true),
    };
  }
  return config;
}

function fileValue(kind: Kind, value: unknown, context: string): string | boolean | number {
  if (kind === 'bool') {
    if (typeof value !== 'boolean') throw new InvalidArgumentError(`${context}: must be true or false`);
    return value;
  }
  if (kind === 'string') {
    if (typeof value !== 'string') throw new InvalidArgumentError(`${context}: must be a string`);
    return value;
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new InvalidArgumentError(`${context}: must be a whole number`);
    return kind === 'duration' ? parseDurationMs(String(value), context) : value;
  }
  if (typeof value !== 'string') throw new InvalidArgumentError(`${context}: must be a number or a string`);
  return convert(kind, value, context);
}
