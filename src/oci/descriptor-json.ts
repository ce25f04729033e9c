import type { Descriptor, Platform } from './types.js';

/**
 * An OCI descriptor as Go's encoding/json writes ocispec.Descriptor: its field order, empty optional
 * fields left out, annotations a map (a `Map`, so goMarshal sorts its keys).
 */
export function descriptorJson(d: Descriptor): object {
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    urls: d.urls?.length ? d.urls : undefined,
    annotations: d.annotations && Object.keys(d.annotations).length > 0 ? new Map(Object.entries(d.annotations)) : undefined,
    data: d.data || undefined,
    platform: d.platform ? platformJson(d.platform) : undefined,
    artifactType: d.artifactType || undefined,
  };
}

/** ocispec.Platform in Go's field order. */
export function platformJson(p: Platform): object {
  return {
    architecture: p.architecture ?? '',
    os: p.os ?? '',
    'os.version': p['os.version'] || undefined,
    'os.features': p['os.features']?.length ? p['os.features'] : undefined,
    variant: p.variant || undefined,
  };
}
