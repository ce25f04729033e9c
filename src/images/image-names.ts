import {
  familiarString,
  parseAnyReference,
  parseNamed,
  referenceString,
  trimNamed,
  withDigest,
  type Reference,
} from '../reference/reference.js';
import type { ImageRecord } from '../metadata/metadata-store.js';

/** Docker keeps images that lost their name under this prefix, so their content stays alive. */
export const DANGLING_PREFIX = 'moby-dangling@';

export function danglingName(digest: string): string {
  return DANGLING_PREFIX + digest;
}

export function isDangling(record: Pick<ImageRecord, 'name' | 'target'>): boolean {
  return record.name === danglingName(record.target.digest);
}

/** FamiliarString(ParseAnyReference(name)): a record's name as Docker prints it (untagged, say); one that does not parse, as it is. */
export function familiarOfAny(name: string): string {
  try {
    const parsed = parseAnyReference(name);
    return 'digestOnly' in parsed ? parsed.digestOnly : familiarString(parsed);
  } catch {
    return name;
  }
}

function parseRecordName(name: string): Reference | undefined {
  try {
    return parseNamed(name);
  } catch {
    return undefined;
  }
}

/**
 * RepoTags and RepoDigests of the records pointing at one target, as Docker derives them: the
 * familiar name of each; a name that is itself digested goes into both lists; dangling records
 * into neither.
 */
export function repoTagsAndDigests(records: ImageRecord[]): { repoTags: string[]; repoDigests: string[] } {
  const repoTags = new Set<string>();
  const repoDigests = new Set<string>();
  for (const record of records) {
    if (isDangling(record)) continue;
    const ref = parseRecordName(record.name);
    if (!ref) {
      repoTags.add(record.name);
      continue;
    }
    repoTags.add(familiarString(ref));
    if (ref.digest) {
      repoDigests.add(familiarString(ref));
      continue;
    }
    repoDigests.add(familiarString(withDigest(trimNamed(ref), record.target.digest)));
  }
  return { repoTags: [...repoTags], repoDigests: [...repoDigests] };
}

/** The repository part (`docker.io/library/alpine`) of a stored name, if it parses. */
export function recordRepository(record: ImageRecord): string | undefined {
  const ref = parseRecordName(record.name);
  return ref && referenceString(trimNamed(ref));
}
