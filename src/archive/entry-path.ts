import { posix } from 'node:path';
import { InvalidArgumentError } from '../errors.js';

/** Go's path.Clean: `./a//b/` -> `a/b`, `` -> `.`. */
export function cleanPath(name: string): string {
  if (name === '') return '.';
  const normalized = posix.normalize(name);
  return normalized.length > 1 && normalized.endsWith('/') ? normalized.slice(0, -1) : normalized;
}

/** True when a cleaned path stays inside the archive root. */
export function isInsideArchive(cleaned: string): boolean {
  return !cleaned.startsWith('/') && cleaned !== '..' && !cleaned.startsWith('../');
}

/**
 * The cleaned name of a tar entry; names that are absolute or climb out of the archive are refused
 * before anything is read from the entry.
 */
export function entryPath(name: string): string {
  const cleaned = cleanPath(name);
  if (!isInsideArchive(cleaned) || name.includes('\0')) {
    throw new InvalidArgumentError(`invalid archive entry name: ${JSON.stringify(name)}`);
  }
  return cleaned;
}

/**
 * Where a link entry points, as an archive path: symlinks are relative to their own directory,
 * hard links to the archive root. Undefined when the target is absolute or outside the archive:
 * such links are never followed.
 */
export function linkTarget(entry: string, linkname: string, kind: 'symlink' | 'link'): string | undefined {
  if (linkname === '' || linkname.startsWith('/')) return undefined;
  const joined = kind === 'symlink' ? posix.join(posix.dirname(entry), linkname) : linkname;
  const cleaned = cleanPath(joined);
  return isInsideArchive(cleaned) && cleaned !== '.' ? cleaned : undefined;
}
