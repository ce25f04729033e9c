import { InvalidArgumentError } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import { imageNameFromAnnotations } from './image-name.js';
import type { ImportContext, ImportedImage } from './import-context.js';
import { checkDescriptor, verifyTarget } from './verify-image.js';

const IMAGE_LAYOUT_VERSION = '1.0.0';

/**
 * The imageLayoutVersion of an `oci-layout` file, '' when it has none: containerd then reads the
 * archive as a docker-archive, as if the file were not there.
 */
export function ociLayoutVersion(layout: unknown): string {
  if (layout === undefined || layout === null) return '';
  if (typeof layout !== 'object' || Array.isArray(layout)) {
    throw new InvalidArgumentError('invalid oci-layout: not a JSON object');
  }
  const version = (layout as Record<string, unknown>).imageLayoutVersion;
  if (version === undefined || version === null) return '';
  if (typeof version !== 'string') throw new InvalidArgumentError('invalid oci-layout: imageLayoutVersion is not a string');
  return version;
}

/**
 * The images of an OCI layout: one per entry of index.json, named by its annotations, its target
 * the entry as written (platform and annotations kept).
 */
export async function importOciLayout(ctx: ImportContext, version: string): Promise<ImportedImage[]> {
  if (version !== IMAGE_LAYOUT_VERSION) throw new InvalidArgumentError(`unsupported OCI version ${version}`);
  const index = ctx.contents.metadata.get('index.json');
  if (index === undefined) throw new InvalidArgumentError(`missing index.json in OCI layout ${IMAGE_LAYOUT_VERSION}`);
  if (typeof index !== 'object' || index === null || Array.isArray(index)) {
    throw new InvalidArgumentError('invalid index.json: not a JSON object');
  }
  const manifests = (index as Record<string, unknown>).manifests ?? [];
  if (!Array.isArray(manifests)) throw new InvalidArgumentError('invalid index.json: manifests is not a list');

  const images: ImportedImage[] = [];
  for (const [i, value] of manifests.entries()) {
    const target: Descriptor = checkDescriptor(value, `index.json, manifests[${i}]`);
    const name = imageNameFromAnnotations(target.annotations);
    await verifyTarget(ctx, target, `index.json, manifests[${i}]${name ? ` (${name})` : ''}`);
    images.push(name === undefined ? { target } : { name, target });
  }
  return images;
}
