/**
 * BuildKit's attestation manifests: an index lists them beside the image manifests, each with
 * `vnd.docker.reference.type: attestation-manifest` and `vnd.docker.reference.digest` naming the
 * manifest it attests (buildkit util/attestation).
 */
import { isManifestType } from './media-types.js';
import type { Descriptor } from './types.js';

export const REFERENCE_TYPE = 'vnd.docker.reference.type';
export const REFERENCE_DIGEST = 'vnd.docker.reference.digest';
export const ATTESTATION_MANIFEST = 'attestation-manifest';
/** The annotation of a statement layer with its in-toto predicate type. */
export const PREDICATE_TYPE = 'in-toto.io/predicate-type';

/**
 * The attestation manifest of `children` that names `subject`, as Docker 29's pull finds it
 * (daemon/containerd/image_pull.go, referrersList.readFrom): the last one listed wins.
 */
export function attestationManifestFor(children: readonly Descriptor[], subject: string): Descriptor | undefined {
  let found: Descriptor | undefined;
  for (const child of children) {
    if (!isManifestType(child.mediaType)) continue;
    const a = child.annotations;
    if (a?.[REFERENCE_TYPE] === ATTESTATION_MANIFEST && a[REFERENCE_DIGEST] === subject) found = child;
  }
  return found;
}
