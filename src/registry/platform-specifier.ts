/**
 * containerd/platforms.Parse, which Docker 28 applies to `POST /images/create?platform=`:
 * `os[(osversion)][/arch[/variant]]`, normalized; texts of its errors included. `host` stands in
 * for Go's runtime.GOOS/GOARCH.
 */
import { InvalidArgumentError } from '../errors.js';
import type { Platform } from '../oci/types.js';

const SPECIFIER_RE = /^[A-Za-z0-9_.-]+$/;
const OS_AND_VERSION_RE = /^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.-]*)\))?$/;
const KNOWN_OS = new Set(['aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'js', 'linux', 'nacl', 'netbsd', 'openbsd', 'plan9', 'solaris', 'windows', 'zos']);
const KNOWN_ARCH = new Set(['386', 'amd64', 'amd64p32', 'arm', 'armbe', 'arm64', 'arm64be', 'ppc64', 'ppc64le', 'loong64', 'mips', 'mipsle', 'mips64', 'mips64le', 'mips64p32', 'mips64p32le', 'ppc', 'riscv', 'riscv64', 's390', 's390x', 'sparc', 'sparc64', 'wasm']);

function invalid(message: string): never {
  throw new InvalidArgumentError(`${message}: invalid argument`);
}

function normalizeOs(os: string, host: Platform): string {
  if (os === '') return host.os;
  const lower = os.toLowerCase();
  return lower === 'macos' ? 'darwin' : lower;
}

export function normalizeArch(arch: string, variant: string): [string, string] {
  arch = arch.toLowerCase();
  variant = variant.toLowerCase();
  switch (arch) {
    case 'i386':
      return ['386', ''];
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return ['amd64', variant === 'v1' ? '' : variant];
    case 'aarch64':
    case 'arm64':
      if (variant === '8' || variant === 'v8' || variant === 'v8.0') variant = '';
      else if (variant === '9' || variant === '9.0' || variant === 'v9.0') variant = 'v9';
      return ['arm64', variant];
    case 'armhf':
      return ['arm', 'v7'];
    case 'armel':
      return ['arm', 'v6'];
    case 'arm':
      if (variant === '' || variant === '7') variant = 'v7';
      else if (variant === '5' || variant === '6' || variant === '8') variant = `v${variant}`;
      return ['arm', variant];
    default:
      return [arch, variant];
  }
}

export function parsePlatformSpecifier(specifier: string, host: Platform): Platform {
  const q = JSON.stringify(specifier);
  if (specifier.includes('*')) invalid(`${q}: wildcards not yet supported`);
  const parts = splitN(specifier, '/', 4);
  const p: Platform = { architecture: '', os: '' };
  for (const [i, part] of parts.entries()) {
    if (i === 0) {
      const m = OS_AND_VERSION_RE.exec(part);
      if (!m) {
        invalid(`${JSON.stringify(part)} is an invalid OS component of ${q}: OSAndVersion specifier component must match "${OS_AND_VERSION_RE.source}"`);
      }
      p.os = normalizeOs(m[1] ?? '', host);
      if (m[2]) p['os.version'] = m[2];
    } else if (!SPECIFIER_RE.test(part)) {
      invalid(`${JSON.stringify(part)} is an invalid component of ${q}: platform specifier component must match "${SPECIFIER_RE.source}"`);
    }
  }
  const withVariant = (arch: string, variant: string): Platform => {
    const out: Platform = { ...p, architecture: arch };
    if (variant) out.variant = variant;
    return out;
  };
  switch (parts.length) {
    case 1: {
      if (KNOWN_OS.has(p.os)) return { ...p, architecture: host.architecture, ...(host.variant ? { variant: host.variant } : {}) };
      let [arch, variant] = normalizeArch(parts[0] ?? '', '');
      if (arch === 'arm' && variant === 'v7') variant = '';
      if (KNOWN_ARCH.has(arch)) {
        const out = withVariant(arch, variant);
        out.os = host.os;
        delete out['os.version'];
        return out;
      }
      return invalid(`${q}: unknown operating system or architecture`);
    }
    case 2: {
      let [arch, variant] = normalizeArch(parts[1] ?? '', '');
      if (arch === 'arm' && variant === 'v7') variant = '';
      return withVariant(arch, variant);
    }
    case 3: {
      let [arch, variant] = normalizeArch(parts[1] ?? '', parts[2] ?? '');
      if (arch === 'arm64' && variant === '') variant = 'v8';
      return withVariant(arch, variant);
    }
    default:
      return invalid(`${q}: cannot parse platform specifier`);
  }
}

function splitN(s: string, sep: string, n: number): string[] {
  const out: string[] = [];
  let rest = s;
  while (out.length < n - 1) {
    const i = rest.indexOf(sep);
    if (i < 0) break;
    out.push(rest.slice(0, i));
    rest = rest.slice(i + 1);
  }
  out.push(rest);
  return out;
}
