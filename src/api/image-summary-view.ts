import type { ImageSummary, ManifestSummary } from '../images/explorer-api-types.js';
import type { Descriptor } from '../oci/types.js';
import { goMarshal, RawJson } from '../util/go-json.js';
import { versionAtLeast, versionLessThan } from './api-version.js';
import { descriptorView, manifestView } from './inspect-view.js';

/**
 * Image summaries as `GET /images/json` and `GET /system/df` write them (api/types/image.Summary,
 * fields in Go's order), each API version's differences as data.
 */
interface ListShape {
  /** Below 1.43 an image without tags and digests is `<none>:<none>`/`<none>@<none>`; from 1.43 no list is null. */
  noneNames: boolean;
  /** `VirtualSize` (= Size, left out when 0) below 1.44. */
  virtualSize: boolean;
  /** `Descriptor` from 1.48. */
  descriptor: boolean;
  /** `Containers` from 1.51; -1 ("not computed") below. */
  containers: boolean;
}

export function listShape(version: string): ListShape {
  return {
    noneNames: versionLessThan(version, '1.43'),
    virtualSize: versionLessThan(version, '1.44'),
    descriptor: versionAtLeast(version, '1.48'),
    containers: versionAtLeast(version, '1.51'),
  };
}

export interface SummaryFields {
  repoTags: string[] | null;
  repoDigests: string[] | null;
  containers: number;
  descriptor: boolean;
  virtualSize: boolean;
}

/** Docker writes these with an encoder that leaves `<`, `>` and `&` alone. */
const NO_HTML = { escapeHTML: false };

/**
 * The parts of a summary that come from an image's blobs are the same objects from list to list
 * (the image service keeps them per target), so their JSON is kept with them.
 */
const rendered = new WeakMap<object, RawJson>();

function renderedOnce<T extends object>(value: T, render: (value: T) => unknown): RawJson {
  let json = rendered.get(value);
  if (!json) {
    json = new RawJson(goMarshal(render(value), NO_HTML));
    rendered.set(value, json);
  }
  return json;
}

const labelsView = (labels: Record<string, string>): unknown => new Map(Object.entries(labels));
const manifestsView = (manifests: ManifestSummary[]): unknown => manifests.map((m) => manifestView(m));

export function summaryDoc(s: ImageSummary, f: SummaryFields): object {
  return {
    Containers: f.containers,
    Created: s.created,
    Id: s.id,
    Labels: s.labels && renderedOnce(s.labels, labelsView),
    ParentId: s.parentId,
    Descriptor: f.descriptor ? renderedOnce<Descriptor>(s.descriptor, descriptorView) : undefined,
    // Kept rendered with the target's facts, but for an Identity, which a push may change.
    Manifests: s.manifests?.length
      ? s.identity
        ? s.manifests.map((m) => manifestView(m, s.identity))
        : renderedOnce(s.manifests, manifestsView)
      : undefined,
    RepoDigests: f.repoDigests,
    RepoTags: f.repoTags,
    SharedSize: s.sharedSize,
    Size: s.size,
    VirtualSize: f.virtualSize && s.size !== 0 ? s.size : undefined,
  };
}

/** A JSON answer as Docker's image and system routers write it, newline-terminated. */
export function body(doc: unknown): Buffer {
  return Buffer.from(goMarshal(doc, NO_HTML) + '\n');
}

/** The body of `GET /images/json` for `version`: what getImagesJSON does to the list. */
export function renderImageList(images: readonly ImageSummary[], version: string): Buffer {
  const shape = listShape(version);
  return body(
    images.map((s) => {
      let { repoTags, repoDigests } = s;
      if (!shape.noneNames) {
        repoTags ??= [];
        repoDigests ??= [];
      } else if (!repoTags?.length && !repoDigests?.length) {
        repoTags = [...(repoTags ?? []), '<none>:<none>'];
        repoDigests = [...(repoDigests ?? []), '<none>@<none>'];
      }
      return summaryDoc(s, {
        repoTags,
        repoDigests,
        containers: shape.containers ? s.containers : -1,
        descriptor: shape.descriptor,
        virtualSize: shape.virtualSize,
      });
    }),
  );
}
