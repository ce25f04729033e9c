import { InvalidArgumentError } from '../errors.js';
import { parseNormalizedNamed, referenceString, tagNameOnly, type Reference } from '../reference/reference.js';

export const ANNOTATION_IMAGE_NAME = 'io.containerd.image.name';
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';

/**
 * A RepoTags entry of manifest.json as containerd normalizes it (distribution's ParseDockerRef):
 * `latest` added to a bare name, and a tag dropped when a digest is also given. Throws on a bad name,
 * which fails the whole load, as in containerd.
 */
export function normalizeRepoTag(tag: string): { name: string; ref: Reference } {
  let ref: Reference;
  try {
    ref = parseNormalizedNamed(tag);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new InvalidArgumentError(`normalize image ref ${JSON.stringify(tag)}: ${message}`, { cause: err });
  }
  ref = ref.digest ? { domain: ref.domain, path: ref.path, digest: ref.digest } : tagNameOnly(ref);
  return { name: referenceString(ref), ref };
}

/** What containerd puts in org.opencontainers.image.ref.name: the part after the repository. */
export function ociRefName(ref: Reference): string {
  if (ref.tag) return ref.tag + (ref.digest ? `@${ref.digest}` : '');
  return ref.digest ? `@${ref.digest}` : '';
}

/**
 * The image name of an index.json entry: containerd's name annotation, else the OCI ref name, both
 * normalized (a bare tag such as `latest` reads as the repository `latest`, as Docker reads it).
 * Undefined when there is no usable name: the image is then loaded untagged.
 */
export function imageNameFromAnnotations(annotations: Record<string, unknown> | undefined): string | undefined {
  const candidate = [annotations?.[ANNOTATION_IMAGE_NAME], annotations?.[ANNOTATION_REF_NAME]].find(
    (value): value is string => typeof value === 'string' && value !== '',
  );
  if (candidate === undefined) return undefined;
  try {
    return referenceString(tagNameOnly(parseNormalizedNamed(candidate)));
  } catch {
    return undefined;
  }
}
