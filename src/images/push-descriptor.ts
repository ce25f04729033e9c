/**
 * Docker 28's getPushDescriptor (daemon/containerd/image_push.go), which `docker push` and `docker
 * save --platform` use to pick what of an image to send: among the image manifests whose content is
 * all here (attestations aside), those of the platform asked for (else of the host's), and then the
 * whole image when nothing is missing and no platform was asked for.
 */
import { ConflictError } from '../errors.js';
import type { ImageRecord } from '../metadata/metadata-store.js';
import { configPlatform, formatPlatformAll, hostPreferenceMatcher, strictMatcher, type PlatformMatcher } from '../oci/platform.js';
import type { Descriptor, ImageConfig, Platform } from '../oci/types.js';
import { walkImageGraph } from '../oci/image-graph-walk.js';
import { ContentReader, isIndex, isManifest } from '../content/content-reader.js';
import { imageFamiliarName, platformNotFound } from './platform-not-found.js';

const ATTESTATION_TYPE = 'vnd.docker.reference.type';

export async function getPushDescriptor(reader: ContentReader, record: ImageRecord, platform?: Platform): Promise<Descriptor> {
  const matcher: PlatformMatcher = platform ? strictMatcher(platform) : hostPreferenceMatcher();
  let anyMissing = false;
  const matching: Array<{ desc: Descriptor; platform: Platform }> = [];
  let best: { desc: Descriptor; platform: Platform } | undefined;

  // Each manifest once, however many times indexes list it.
  await walkImageGraph(record.target, async (desc) => {
    if (isIndex(desc)) return (await reader.has(desc.digest)) ? (await reader.readIndex(desc))?.manifests : undefined;
    if (!isManifest(desc)) return undefined;
    const manifest = (await reader.has(desc.digest)) ? await reader.readManifest(desc) : undefined;
    let available = manifest !== undefined;
    for (const child of manifest ? [manifest.config, ...manifest.layers] : []) {
      if (!(await reader.has(child.digest))) available = false;
    }
    if (!manifest || !available) {
      anyMissing = true;
      return undefined;
    }
    if (desc.annotations?.[ATTESTATION_TYPE] !== undefined) return undefined;
    const p = desc.platform ?? configPlatform((await reader.readConfig(manifest.config)) ?? ({} as ImageConfig));
    if (!matcher.match(p)) return undefined;
    matching.push({ desc, platform: p });
    if (!best || matcher.less(p, best.platform)) best = { desc, platform: p };
    return undefined;
  });

  const [only] = matching;
  if (!only) throw platformNotFound(imageFamiliarName(record), platform);
  if (matching.length === 1) return platform || anyMissing ? only.desc : record.target;
  if (platform) throw new ConflictError(`multiple manifests found for platform ${formatPlatformAll(platform)}`);
  if (!anyMissing) return record.target;
  // The default matcher only takes platforms the host runs, so the best one is the host's.
  if (best) return best.desc;
  throw new ConflictError('multiple matching manifests found but no specific platform requested');
}
