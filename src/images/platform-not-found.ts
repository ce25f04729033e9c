import { NotFoundError } from '../errors.js';
import type { ImageRecord } from '../metadata/metadata-store.js';
import { formatPlatformAll } from '../oci/platform.js';
import type { Platform } from '../oci/types.js';
import { familiarString, parseNamed } from '../reference/reference.js';
import { isDangling } from './image-names.js';

/** Docker's imageFamiliarName: the target digest of a dangling image, else the familiar name. */
export function imageFamiliarName(record: Pick<ImageRecord, 'name' | 'target'>): string {
  if (isDangling(record)) return record.target.digest;
  try {
    return familiarString(parseNamed(record.name));
  } catch {
    return record.name;
  }
}

/** Docker 28's errPlatformNotFound (a 404), naming the image and the platform asked for, if any. */
export function platformNotFound(imageRef: string, wanted?: Platform): NotFoundError {
  return new NotFoundError(
    `image with reference ${imageRef} was found but does not provide ` +
      (wanted?.os ? `the specified platform (${formatPlatformAll(wanted)})` : 'any platform'),
  );
}
