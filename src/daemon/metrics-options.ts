/**
 * `--metrics-addr host:port` (daemon.json `metrics-addr`), as dockerd's: where `/metrics` is served,
 * off by default. Lading serves it on loopback only, unless the API has TLS, whose certificates then
 * guard it too: metrics name images and registries. Kept apart from flags.ts and config.ts, which only
 * hand over to it.
 */
import { isIP } from 'node:net';
import { InvalidArgumentError, LadingError } from '../errors.js';
import { isLoopback } from './listen-address.js';

export interface MetricsAddress {
  host: string;
  port: number;
}

export const METRICS_USAGE = `      --metrics-addr string            Serve Prometheus metrics at /metrics on this address, e.g.
                                       127.0.0.1:9323 (default: off; loopback only unless --tls)
`;

/** Go's net.SplitHostPort for a TCP listener: `host:port`, `[v6]:port`, `:port` (every interface). */
export function parseMetricsAddress(value: string): MetricsAddress {
  const fail = (why: string): never => {
    throw new InvalidArgumentError(`invalid metrics address ${JSON.stringify(value)}: ${why}`);
  };
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(value);
  if (!m) return fail(value.includes(':') ? 'too many colons in address' : 'missing port in address');
  const host = m[1] ?? m[2] ?? '';
  if (m[1] !== undefined && isIP(host) !== 6) fail('not an IPv6 address in brackets');
  const port = m[3] ?? '';
  if (!/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) fail(`invalid port ${JSON.stringify(port)}`);
  return { host, port: Number(port) };
}

/** The flag over daemon.json; both set is refused, as dockerd refuses it. */
export function resolveMetricsAddress(flag: string | undefined, file: Record<string, unknown>, configFile: string | undefined): MetricsAddress | undefined {
  const fromFile = file['metrics-addr'];
  if (fromFile !== undefined && typeof fromFile !== 'string') {
    throw new InvalidArgumentError(`unable to configure the daemon with file ${configFile ?? 'daemon.json'}: metrics-addr must be a string`);
  }
  if (flag !== undefined && fromFile !== undefined) {
    throw new InvalidArgumentError(
      `the following directives are specified both as a flag and in the configuration file: metrics-addr: (from flag: ${flag}, from file: ${fromFile})`,
    );
  }
  const value = flag ?? fromFile;
  return value === undefined || value === '' ? undefined : parseMetricsAddress(value);
}

/** Without the API's TLS, only a loopback address: checked before anything is opened. */
export function checkMetricsAccess(address: MetricsAddress, tls: boolean): void {
  if (tls || (address.host !== '' && isLoopback(address.host))) return;
  throw new LadingError(
    'forbidden',
    `refusing to serve metrics on ${formatMetricsAddress(address)} without TLS: use a loopback address (127.0.0.1:9323), or --tlsverify with --tlscacert, --tlscert and --tlskey`,
  );
}

export function formatMetricsAddress(a: MetricsAddress): string {
  return `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}
