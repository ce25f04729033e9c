/**
 * `GET /images/{name}/attestations` (API 1.55): the in-toto statements BuildKit stores beside an
 * image's platform manifests, as Docker 29.7's ImageAttestations finds them through policy-helpers'
 * ResolveSignatureChain. Only the target index is read for the chain (attestation manifests are
 * its siblings, never nested), so no graph walk: one index, one manifest, the statement blobs.
 */
import type { ContentStore } from '../content/content-store.js';
import { NotFoundError } from '../errors.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import { ATTESTATION_MANIFEST, PREDICATE_TYPE, REFERENCE_DIGEST, REFERENCE_TYPE } from '../oci/attestation.js';
import { isManifestType, MediaType } from '../oci/media-types.js';
import { formatPlatformAll, hostPlatform, onlyMatcher } from '../oci/platform.js';
import type { Descriptor, Platform } from '../oci/types.js';
import type { ContentReader } from '../content/content-reader.js';
import { resolveImage } from './resolve.js';

export interface AttestationOptions {
  /** The platform whose attestations are wanted; the host's when absent. */
  platform?: Platform;
  /** In-toto predicate type URIs to keep; all when empty. */
  predicateTypes: readonly string[];
  /** Read each statement blob and return it (`statement=1`). */
  statement: boolean;
}

export interface AttestationStatement {
  /** The statement layer's descriptor, as the attestation manifest lists it. */
  descriptor: Descriptor;
  predicateType: string;
  /** The statement blob's bytes (JSON), with `statement`. */
  statement?: Buffer;
}

export interface AttestationSources {
  metadata: MetadataStore;
  reader: Pick<ContentReader, 'readIndex' | 'readManifest'>;
  content: Pick<ContentStore, 'readBytes'>;
}

/** Statements are read whole, as Docker reads them; SBOMs of large images run to megabytes. */
const MAX_STATEMENT_BYTES = 64 * 1024 * 1024;

/**
 * The statements attached to `refOrId`'s manifest for the platform: [] when the target is not an
 * OCI index (a Docker manifest list neither), when no attestation manifest names that manifest, or
 * when no layer matches; a NotFoundError when the index has no manifest for the platform, or a
 * statement asked for is not here.
 */
export async function imageAttestations(
  src: AttestationSources,
  refOrId: string,
  options: AttestationOptions,
): Promise<AttestationStatement[]> {
  const record = await resolveImage(src.metadata, refOrId);
  if (record.target.mediaType !== MediaType.ociIndex) return [];
  const index = await src.reader.readIndex(record.target);
  if (!index) throw blobNotFound(record.target.digest);
  const manifests = index.manifests ?? [];

  const platform = options.platform ?? hostPlatform();
  const image = platformManifest(manifests, platform);
  const attestation = manifests.find(
    (d) => d.annotations?.[REFERENCE_TYPE] === ATTESTATION_MANIFEST && d.annotations?.[REFERENCE_DIGEST] === image.digest,
  );
  if (!attestation) return [];
  const manifest = await src.reader.readManifest(attestation);
  if (!manifest) throw blobNotFound(attestation.digest);

  const statements: AttestationStatement[] = [];
  for (const layer of manifest.layers) {
    const predicateType = layer.annotations?.[PREDICATE_TYPE] ?? '';
    if (predicateType === '') continue;
    if (options.predicateTypes.length > 0 && !options.predicateTypes.includes(predicateType)) continue;
    const entry: AttestationStatement = { descriptor: layer, predicateType };
    if (options.statement) entry.statement = await readStatement(src.content, layer.digest);
    statements.push(entry);
  }
  return statements;
}

/**
 * policy-helpers' resolveImageManifest: the index's manifests (nested indexes are not entered) for
 * the platform as containerd's platforms.Only ranks them, those without a platform last.
 */
function platformManifest(manifests: readonly Descriptor[], platform: Platform): Descriptor {
  const matcher = onlyMatcher(platform);
  const candidates = manifests.filter((d) => isManifestType(d.mediaType) && (!d.platform || matcher.match(d.platform)));
  let best: Descriptor | undefined;
  for (const d of candidates) {
    if (!best) best = d;
    else if (d.platform && (!best.platform || matcher.less(d.platform, best.platform))) best = d;
  }
  if (!best) {
    throw new NotFoundError(
      `resolving image manifest for platform ${goPlatformValue(platform)}: no manifest for platform ${formatPlatformAll(platform)}: not found`,
    );
  }
  return best;
}

async function readStatement(content: AttestationSources['content'], digest: string): Promise<Buffer> {
  try {
    return await content.readBytes(digest, MAX_STATEMENT_BYTES);
  } catch (err) {
    if (err instanceof NotFoundError) {
      throw new NotFoundError(`attestation statement ${digest} is not available locally: content digest ${digest}: not found`, { cause: err });
    }
    throw err;
  }
}

/** What policy-helpers' ReadBlob says of a document the content store lacks. */
function blobNotFound(digest: string): NotFoundError {
  return new NotFoundError(`reading blob ${digest}: content digest ${digest}: not found`);
}

/** Go's `%+v` of a *v1.Platform, as policy-helpers puts it in its error. */
function goPlatformValue(p: Platform): string {
  const features = `[${(p['os.features'] ?? []).join(' ')}]`;
  return `&{Architecture:${p.architecture} OS:${p.os} OSVersion:${p['os.version'] ?? ''} OSFeatures:${features} Variant:${p.variant ?? ''}}`;
}
