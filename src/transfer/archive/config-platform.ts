import type { Platform } from '../../oci/types.js';

/**
 * The platform of an image config, as containerd's images.ConfigPlatform reads it: the config's
 * platform fields passed through platforms.Normalize (containerd/platforms v1.0.0-rc.1), which
 * lowercases, resolves architecture aliases, spells arm variants `vN` and takes an empty OS to be
 * the host's (linux). Keys in Go's field order; optional ones only when set.
 */
export function configPlatform(config: Record<string, unknown>): Platform {
  const text = (key: string): string => (typeof config[key] === 'string' ? (config[key] as string) : '');
  const [architecture, variant] = normalizeArch(text('architecture'), text('variant'));
  let os = text('os').toLowerCase();
  if (os === '') os = 'linux';
  if (os === 'macos') os = 'darwin';

  const platform: Platform = { architecture, os };
  const osVersion = text('os.version');
  if (osVersion) platform['os.version'] = osVersion;
  const features = config['os.features'];
  if (Array.isArray(features) && features.length > 0) {
    platform['os.features'] = features.filter((f): f is string => typeof f === 'string');
  }
  if (variant) platform.variant = variant;
  return platform;
}

function normalizeArch(rawArch: string, rawVariant: string): [string, string] {
  let arch = rawArch.toLowerCase();
  let variant = rawVariant.toLowerCase();
  switch (arch) {
    case 'i386':
      arch = '386';
      variant = '';
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      arch = 'amd64';
      if (variant === 'v1') variant = '';
      break;
    case 'aarch64':
    case 'arm64':
      arch = 'arm64';
      if (variant === '8' || variant === 'v8' || variant === 'v8.0') variant = '';
      else if (variant === '9' || variant === '9.0' || variant === 'v9.0') variant = 'v9';
      break;
    case 'armhf':
      arch = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      arch = 'arm';
      variant = 'v6';
      break;
    case 'arm':
      if (variant === '' || variant === '7') variant = 'v7';
      else if (variant === '5' || variant === '6' || variant === '8') variant = `v${variant}`;
      break;
  }
  return [arch, variant];
}
