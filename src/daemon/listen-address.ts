import { isIP } from 'node:net';
import { InvalidArgumentError } from '../errors.js';

export type ListenAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/**
 * Parses a `-H` value as dockerd does: `unix:///path`, `tcp://host:port`, bare `host:port`; a TCP
 * address without a port gets 2376 with TLS, 2375 without.
 */
export function parseListenAddress(value: string, options: { tls?: boolean } = {}): ListenAddress {
  if (value.startsWith('unix://')) {
    const path = value.slice('unix://'.length);
    if (!path.startsWith('/')) throw new InvalidArgumentError(`invalid bind address (${value}): unix socket path must be absolute`);
    return { kind: 'unix', path };
  }
  const rest = value.startsWith('tcp://') ? value.slice('tcp://'.length) : value;
  if (rest.includes('://')) throw new InvalidArgumentError(`invalid bind address (${value}): unsupported proto`);
  const m = /^(\[[^\]]+\]|[^:]*)(?::(\d+))?$/.exec(rest);
  if (!m) throw new InvalidArgumentError(`invalid bind address (${value})`);
  const host = (m[1] ?? '').replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = m[2] ? Number(m[2]) : options.tls ? 2376 : 2375;
  if (port < 1 || port > 65535) throw new InvalidArgumentError(`invalid bind address (${value}): invalid port`);
  return { kind: 'tcp', host, port };
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

export function formatListenAddress(a: ListenAddress): string {
  return a.kind === 'unix' ? `unix://${a.path}` : `tcp://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}
