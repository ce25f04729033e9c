import { InvalidArgumentError, NotFoundError } from '../errors.js';
import type { ImageRecord, ImageRecords } from '../metadata/image-records.js';
import {
  familiarString,
  parseAnyReference,
  parseNormalizedNamed,
  referenceString,
  repositoryName,
  tagNameOnly,
  type Reference,
} from '../reference/reference.js';

const TRUNCATED_ID = /^(?:sha256:)?([a-f0-9]{4,64})$/;

/**
 * Finds the image record a user's `{name}` means, with Docker 28's rules and error texts:
 * a digest matches a target; `name@digest` also needs the repository; `name[:tag]` is looked up
 * exactly; failing that, 4-64 hex characters are a prefix of a target digest.
 */
export async function resolveImage(metadata: ImageRecords, refOrId: string): Promise<ImageRecord> {
  let parsed: Reference | { digestOnly: string };
  try {
    parsed = parseAnyReference(refOrId);
  } catch (err) {
    throw err instanceof InvalidArgumentError ? err : new InvalidArgumentError('invalid reference format');
  }

  const digest = 'digestOnly' in parsed ? parsed.digestOnly : parsed.digest;
  if (digest) {
    const records = await metadata.imagesByTarget(digest);
    if ('digestOnly' in parsed) {
      if (records[0]) return records[0];
      throw new NotFoundError(`No such image: ${digest}`);
    }
    const repo = repositoryName(parsed);
    const match = records.find((r) => sameRepository(r.name, repo));
    if (match) return match;
    throw noSuchImage(parsed);
  }

  const ref = parsed as Reference;
  const name = referenceString(tagNameOnly(ref));
  const exact = await metadata.getImage(name);
  if (exact) return exact;

  const truncated = TRUNCATED_ID.exec(refOrId);
  if (truncated?.[1]) {
    const targets = await metadata.targetsByPrefix(truncated[1], 2);
    if (targets.length > 1) throw new NotFoundError('ambiguous reference');
    const only = targets[0] && (await metadata.imagesByTarget(targets[0]))[0];
    if (only) return only;
  }
  throw noSuchImage(ref);
}

function sameRepository(recordName: string, repo: string): boolean {
  try {
    return repositoryName(parseNormalizedNamed(recordName)) === repo;
  } catch {
    return false;
  }
}

function noSuchImage(ref: Reference): NotFoundError {
  return new NotFoundError(`No such image: ${familiarString(tagNameOnly(ref))}`);
}
