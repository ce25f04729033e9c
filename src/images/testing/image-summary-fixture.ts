/** One image summary for the list's and df's tests: a tagged index of 1234 bytes, no labels, no container. */
import type { ImageSummary } from '../explorer-api-types.js';

export const SUMMARY_ID = 'sha256:' + 'a'.repeat(64);

export function imageSummary(overrides: Partial<ImageSummary> = {}): ImageSummary {
  return {
    id: SUMMARY_ID,
    parentId: '',
    repoTags: ['app:1'],
    repoDigests: [`app@${SUMMARY_ID}`],
    created: 1700000000,
    size: 1234,
    sharedSize: -1,
    labels: null,
    containers: 0,
    descriptor: { mediaType: 'application/vnd.oci.image.index.v1+json', digest: SUMMARY_ID, size: 500 },
    ...overrides,
  };
}
