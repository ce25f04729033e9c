/**
 * The explorer's options: `--ui [host:]port` (daemon.json `ui`) serves it, off by default, on
 * loopback unless a host is given; `--ui-token=false` (daemon.json `ui-token`) turns its access
 * token off. A TCP port is open to every local user, where the API's socket is not: hence the token.
 * Kept apart from flags.ts and config.ts, which only hand over to it.
 */
import { InvalidArgumentError } from '../errors.js';
import { isLoopback } from './listen-address.js';

export interface UiFlags {
  ui?: string;
  uiToken?: boolean;
}

export interface UiConfig {
  host: string;
  port: number;
  /** Requests must carry the access token printed at start. */
  token: boolean;
}

export const UI_USAGE = `      --ui [host:]port       Serve Lading's explorer, a web page over the image store (default host 127.0.0.1;
                             another than loopback only with --tls); off by default
      --ui-token             Require the access token printed at start (default true)
`;

export const UI_FILE_KEYS: readonly string[] = ['ui', 'ui-token'];

export function isUiFlag(name: string): boolean {
  return name === '--ui' || name === '--ui-token';
}

export function parseUiFlag(flags: UiFlags, name: string, inline: string | undefined, next: () => string | undefined): void {
  if (name === '--ui-token') {
    if (inline === undefined || inline === 'true') flags.uiToken = true;
    else if (inline === 'false') flags.uiToken = false;
    else throw new InvalidArgumentError(`invalid argument ${JSON.stringify(inline)} for "--ui-token" flag: strconv.ParseBool: parsing ${JSON.stringify(inline)}: invalid syntax`);
    return;
  }
  const value = inline ?? next();
  if (value === undefined) throw new InvalidArgumentError(`flag needs an argument: ${name}`);
  flags.ui = value;
}

/** `port`, `host:port`, `[v6]:port`. */
export function parseUiAddress(value: string): { host: string; port: number } {
  const m = /^(?:(\[[^\]]+\]|[^:]+):)?(\d+)$/.exec(value.replace(/^(tcp|https?):\/\//, ''));
  const port = Number(m?.[2]);
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError(`invalid --ui address ${JSON.stringify(value)}: want [host:]port`);
  return { host: (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, ''), port };
}

/** Flags over daemon.json; undefined when the explorer is off. A host beyond loopback needs TLS. */
export function resolveUi(flags: UiFlags, file: Record<string, unknown>, configFile: string | undefined, tls: boolean): UiConfig | undefined {
  const context = `unable to configure the daemon with file ${configFile}`;
  const both = (['ui', 'ui-token'] as const).filter((k) => k in file && flags[k === 'ui' ? 'ui' : 'uiToken'] !== undefined);
  if (both.length > 0) throw new InvalidArgumentError(`the following directives are specified both as a flag and in the configuration file: ${both.join(', ')}`);
  if ('ui' in file && typeof file.ui !== 'string') throw new InvalidArgumentError(`${context}: ui must be a string`);
  if ('ui-token' in file && typeof file['ui-token'] !== 'boolean') throw new InvalidArgumentError(`${context}: ui-token must be true or false`);
  const address = flags.ui ?? (file.ui as string | undefined);
  if (address === undefined || address === '') return undefined;
  const { host, port } = parseUiAddress(address);
  if (!isLoopback(host) && !tls) {
    throw new InvalidArgumentError(`refusing to serve the explorer on ${host}:${port} without TLS: use a loopback address, or --tls with --tlscert and --tlskey`);
  }
  return { host, port, token: flags.uiToken ?? (file['ui-token'] as boolean | undefined) ?? true };
}
