/**
 * The daemon's registry settings and where a repository's registry is reached, after Docker 28.5's
 * registry/config.go (insecure registries, mirrors, validation texts) and daemon/hosts.go over
 * containerd v2.1.4's remotes/docker/config (endpoints, TLS, plain-HTTP fallback).
 */
import { promises as dns } from 'node:dns';
import { readdirSync, readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import * as path from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { DOCKER_HUB_REGISTRY_HOST } from './auth-config.js';

export interface RegistryOptions {
  /** CIDRs or host[:port]; loopback is always insecure. */
  insecureRegistries?: string[];
  /** Pull-through mirrors of Docker Hub, `https://host[:port][/path]`. */
  mirrors?: string[];
  /** `<dir>/<host:port>/*.crt` are extra CAs, `*.cert`/`*.key` client certificates. */
  certsDir?: string;
}

export interface RegistryTls {
  /** false: TLS is tried, certificates not verified, and plain HTTP is used when TLS fails. */
  verify: boolean;
  /** Extra CA certificates (PEM), added to the system's. */
  ca: Buffer[];
  cert?: Buffer;
  key?: Buffer;
}

/** One place a repository can be pulled from (containerd's RegistryHost). */
export interface Endpoint {
  scheme: 'https' | 'http';
  /** host[:port] */
  host: string;
  /** '/v2' or a mirror's path ending in /v2 */
  path: string;
  /** A mirror for another namespace: requests carry `?ns=<namespace>`. */
  namespace?: string;
  /** Registries reached without verified TLS fall back to plain HTTP when TLS fails. */
  tls: RegistryTls;
}

export interface IndexInfo {
  Name: string;
  Mirrors: string[];
  Secure: boolean;
  Official: boolean;
}

/** What `/info` reports as RegistryConfig. */
export interface ServiceConfig {
  insecureRegistryCIDRs: string[];
  indexConfigs: Map<string, IndexInfo>;
  mirrors: string[];
}

const DEFAULT_INSECURE = ['::1/128', '127.0.0.0/8'];
const HUB = 'docker.io';

export class RegistryConfig {
  private readonly cidrs: { network: string; prefix: number; family: 'ipv4' | 'ipv6' }[] = [];
  private readonly blockList = new BlockList();
  private readonly indexConfigs = new Map<string, IndexInfo>();
  readonly mirrors: string[];
  readonly certsDir: string | undefined;

  constructor(options: RegistryOptions = {}) {
    this.mirrors = loadMirrors(options.mirrors ?? []);
    this.certsDir = options.certsDir;
    this.loadInsecureRegistries(options.insecureRegistries ?? []);
  }

  serviceConfig(): ServiceConfig {
    return {
      insecureRegistryCIDRs: this.cidrs.map((c) => `${c.network}/${c.prefix}`),
      indexConfigs: new Map(this.indexConfigs),
      mirrors: [...this.mirrors],
    };
  }

  /** registry/config.go loadInsecureRegistries, texts included. */
  private loadInsecureRegistries(registries: string[]): void {
    for (let r of [...registries, ...DEFAULT_INSECURE]) {
      if (r.startsWith('-') || r.endsWith('-')) {
        throw new InvalidArgumentError(`invalid index name (${r}). Cannot begin or end with a hyphen`);
      }
      if (r.toLowerCase().startsWith('http://')) r = r.slice(7);
      else if (r.toLowerCase().startsWith('https://')) r = r.slice(8);
      else if (r.includes('://')) throw new InvalidArgumentError(`insecure registry ${r} should not contain '://'`);
      const cidr = parseCidr(r);
      if (cidr) {
        if (!this.cidrs.some((c) => c.network === cidr.network && c.prefix === cidr.prefix)) {
          this.cidrs.push(cidr);
          this.blockList.addSubnet(cidr.network, cidr.prefix, cidr.family);
        }
        continue;
      }
      validateHostPort(r);
      this.indexConfigs.set(r, { Name: r, Mirrors: [], Secure: false, Official: false });
    }
    this.indexConfigs.set(HUB, { Name: HUB, Mirrors: [...this.mirrors], Secure: true, Official: true });
  }

  /**
   * Docker's isSecureIndex: configured index names first, then the CIDRs (host names resolved).
   * Loopback names are insecure even when they do not resolve.
   */
  async isInsecure(host: string): Promise<boolean> {
    const index = this.indexConfigs.get(host === 'index.docker.io' ? HUB : host);
    if (index) return !index.Secure;
    const name = splitHostPort(host).host;
    if (name === 'localhost') return true;
    const addresses = isIP(name) ? [name] : await lookup(name);
    return addresses.some((a) => this.blockList.check(a, isIP(a) === 6 ? 'ipv6' : 'ipv4'));
  }

  /** The endpoints for a reference domain, mirrors first (containerd's RegistryHosts). */
  async endpoints(domain: string): Promise<Endpoint[]> {
    const endpoints: Endpoint[] = [];
    if (domain === HUB) {
      for (const mirror of this.mirrors) endpoints.push(await this.mirrorEndpoint(mirror));
      endpoints.push({ scheme: 'https', host: DOCKER_HUB_REGISTRY_HOST, path: '/v2', tls: await this.tlsFor(DOCKER_HUB_REGISTRY_HOST, HUB) });
      return endpoints;
    }
    const { port } = splitHostPort(domain);
    const tls = await this.tlsFor(domain, domain);
    // Port 80 says plain HTTP; everything else tries TLS first (with fallback when insecure).
    endpoints.push({ scheme: port === '80' ? 'http' : 'https', host: domain, path: '/v2', tls });
    return endpoints;
  }

  private async mirrorEndpoint(mirror: string): Promise<Endpoint> {
    const url = new URL(mirror);
    let p = url.pathname.replace(/\/$/, '');
    if (!p.endsWith('/v2')) p = path.posix.join(p || '/', 'v2');
    const scheme = url.protocol === 'http:' ? 'http' : 'https';
    return { scheme, host: url.host, path: p, namespace: HUB, tls: await this.tlsFor(url.host, url.host) };
  }

  /** TLS for any host (a token realm too): verified unless insecure, with its certs.d files. */
  tlsSettings(host: string): Promise<RegistryTls> {
    return this.tlsFor(host, host);
  }

  private async tlsFor(host: string, namespace: string): Promise<RegistryTls> {
    const files = this.certFiles(host) ?? (namespace !== host ? this.certFiles(namespace) : undefined);
    return { verify: !(await this.isInsecure(host)), ca: [], ...files };
  }

  /** Docker's loadTLSConfig over `<certsDir>/<host>`: *.crt CAs, *.cert + *.key pairs. */
  private certFiles(host: string): Omit<RegistryTls, 'verify'> | undefined {
    if (!this.certsDir) return undefined;
    const dir = path.join(this.certsDir, host.replace(/[/\\]/g, '_'));
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return undefined;
    }
    const ca = names.filter((n) => n.endsWith('.crt')).map((n) => readFileSync(path.join(dir, n)));
    const certName = names.find((n) => n.endsWith('.cert'));
    if (!certName) return { ca };
    const keyFile = path.join(dir, certName.slice(0, -'.cert'.length) + '.key');
    try {
      return { ca, cert: readFileSync(path.join(dir, certName)), key: readFileSync(keyFile) };
    } catch (err) {
      throw new InvalidArgumentError(`failed to load keypair for ${path.join(dir, certName)}: ${(err as Error).message}`);
    }
  }
}

async function lookup(name: string): Promise<string[]> {
  try {
    return (await dns.lookup(name, { all: true })).map((a) => a.address);
  } catch {
    return [];
  }
}

function parseCidr(s: string): { network: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = s.slice(0, slash);
  const prefixText = s.slice(slash + 1);
  const version = isIP(ip);
  if (!version || !/^\d+$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > (version === 4 ? 32 : 128)) return undefined;
  return { network: maskAddress(ip, prefix, version), prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** The network address of ip/prefix, written as Go's net.IPNet.String writes it. */
function maskAddress(ip: string, prefix: number, version: number): string {
  if (version === 4) {
    const bytes = ip.split('.').map(Number);
    return bytes.map((b, i) => b & maskByte(prefix - i * 8)).join('.');
  }
  const groups = expandIPv6(ip).map((g, i) => g & (0xffff & ~(0xffff >>> Math.max(0, Math.min(16, prefix - i * 16)))));
  return compressIPv6(groups);
}

function maskByte(bits: number): number {
  if (bits >= 8) return 0xff;
  if (bits <= 0) return 0;
  return (0xff << (8 - bits)) & 0xff;
}

function expandIPv6(ip: string): number[] {
  const [head = '', tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const missing = 8 - h.length - t.length;
  return [...h, ...Array<string>(tail !== undefined ? missing : 0).fill('0'), ...t].map((g) => parseInt(g, 16) || 0);
}

function compressIPv6(groups: number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

const DOMAIN_RE = /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[(?:[a-fA-F0-9:]+)\])(?::[0-9]+)?$/;

/** registry/config.go validateHostPort. */
function validateHostPort(s: string): void {
  const { host, port } = splitHostPort(s);
  if (!DOMAIN_RE.test(s) && !isIP(host)) {
    throw new InvalidArgumentError(`insecure registry ${s} is not valid: invalid host ${JSON.stringify(host)}`);
  }
  if (port !== '') {
    if (!/^\d+$/.test(port)) throw new InvalidArgumentError(`insecure registry ${s} is not valid: invalid port ${JSON.stringify(port)}`);
    if (Number(port) > 65535) throw new InvalidArgumentError(`insecure registry ${s} is not valid: invalid port ${JSON.stringify(port)}`);
  }
}

/** Go's net.SplitHostPort, leniently: a host without a port keeps port ''. */
export function splitHostPort(s: string): { host: string; port: string } {
  const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(s);
  if (bracket) return { host: bracket[1] ?? '', port: bracket[2] ?? '' };
  const colon = s.lastIndexOf(':');
  if (colon < 0 || s.indexOf(':') !== colon) return { host: s, port: '' };
  return { host: s.slice(0, colon), port: s.slice(colon + 1) };
}

/** registry/config.go ValidateMirror: a normalized `scheme://host[/path]/`. */
export function validateMirror(mirror: string): string {
  const sep = mirror.indexOf('://');
  if (sep <= 0) {
    throw new InvalidArgumentError(`invalid mirror: no scheme specified for ${JSON.stringify(mirror)}: must use either 'https://' or 'http://'`);
  }
  let url: URL;
  try {
    url = new URL(mirror);
  } catch {
    throw new InvalidArgumentError(`invalid mirror: ${JSON.stringify(mirror)} is not a valid URI`);
  }
  const scheme = url.protocol.slice(0, -1);
  if (scheme !== 'http' && scheme !== 'https') {
    throw new InvalidArgumentError(`invalid mirror: unsupported scheme ${JSON.stringify(scheme)} in ${JSON.stringify(mirror)}: must use either 'https://' or 'http://'`);
  }
  if (url.search !== '' || url.hash !== '') {
    throw new InvalidArgumentError(`invalid mirror: query or fragment at end of the URI ${JSON.stringify(mirror)}`);
  }
  if (url.username || url.password) {
    throw new InvalidArgumentError(`invalid mirror: username/password not allowed in URI ${JSON.stringify(`${scheme}://${url.username}:xxxxx@${url.host}${url.pathname}`)}`);
  }
  return mirror.replace(/\/$/, '') + '/';
}

function loadMirrors(mirrors: string[]): string[] {
  const unique: string[] = [];
  for (const m of mirrors) {
    const normalized = validateMirror(m);
    if (!unique.includes(normalized)) unique.push(normalized);
  }
  return unique;
}
