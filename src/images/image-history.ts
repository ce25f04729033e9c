/**
 * `docker history`, as Docker 28.5's containerd image service answers it (daemon/containerd/
 * image_history.go): the config's history of one platform manifest, newest first, each entry that
 * made a layer sized by that layer's snapshot, the top entry named by the image.
 */
import { LadingError } from '../errors.js';
import type { ImageRecord, MetadataStore } from '../metadata/metadata-store.js';
import { hostPreferenceMatcher, onlyMatcher } from '../oci/platform.js';
import type { ImageConfig, Platform } from '../oci/types.js';
import { familiarString, parseNamed } from '../reference/reference.js';
import { unixSeconds } from '../util/go-time.js';
import type { ContentReader } from '../content/content-reader.js';
import { isDangling } from './image-names.js';
import type { LayerSizes } from './inspect.js';
import { bestPresentImage } from './present-content.js';
import { resolveImage } from './resolve.js';

/** One entry of the answer (image.HistoryResponseItem). */
export interface HistoryItem {
  comment: string;
  /** Seconds since the epoch; 0 when the entry has no time. */
  created: number;
  createdBy: string;
  /** The image ID on the newest entry, `<missing>` on the others. */
  id: string;
  size: number;
  /** The image's names on the newest entry; null elsewhere and for an image without names. */
  tags: string[] | null;
}

export interface HistorySources {
  metadata: MetadataStore;
  reader: ContentReader;
  layers: LayerSizes;
}

export const MISSING_ID = '<missing>';

export async function imageHistory(src: HistorySources, refOrId: string, platform?: Platform): Promise<HistoryItem[]> {
  const record = await resolveImage(src.metadata, refOrId);
  // Docker asks platforms.Only here (compatible platforms too), not OnlyStrict as save does.
  const matcher = platform ? onlyMatcher(platform) : hostPreferenceMatcher();
  const { manifest, config } = await bestPresentImage(src.reader, record, matcher, platform);
  const layers = (await src.reader.readManifest(manifest))?.layers ?? [];
  const diffIds = Array.isArray(config.rootfs?.diff_ids) ? config.rootfs.diff_ids : [];
  // A layer without a snapshot counts 0, as Docker counts a chain it has not unpacked.
  const sizes: number[] = [];
  for (const [i] of diffIds.entries()) {
    const layer = layers[i];
    sizes.push((layer && (await src.layers.unpackedSize(layer.digest))) ?? 0);
  }

  const items = historyItems(config, sizes);
  const top = items[0];
  if (top) {
    top.id = record.target.digest;
    top.tags = imageTags(await src.metadata.imagesByTarget(record.target.digest));
  }
  return items;
}

/**
 * The config's history, newest first, before the top entry is named. Entries that made a layer take
 * the layer sizes in order; sizes left over are ignored, and running out of them is an error, as in
 * Docker.
 */
export function historyItems(config: Pick<ImageConfig, 'history'>, layerSizes: readonly number[]): HistoryItem[] {
  const history = Array.isArray(config.history) ? config.history : [];
  const items: HistoryItem[] = [];
  let next = 0;
  for (const h of history) {
    const entry = typeof h === 'object' && h !== null ? h : {};
    let size = 0;
    if (entry.empty_layer !== true) {
      if (next >= layerSizes.length) throw new LadingError('internal', 'unable to find the size of the layer');
      size = layerSizes[next++] ?? 0;
    }
    items.unshift({
      comment: text(entry.comment),
      created: unixSeconds(text(entry.created)),
      createdBy: text(entry.created_by),
      id: MISSING_ID,
      size,
      tags: null,
    });
  }
  return items;
}

/** getImageTags: the familiar form of every non-dangling name, in name order; null when none. */
function imageTags(records: ImageRecord[]): string[] | null {
  const tags: string[] = [];
  for (const record of records) {
    if (isDangling(record)) continue;
    try {
      tags.push(familiarString(parseNamed(record.name)));
    } catch {
      // Docker skips (and logs) a name that is not a valid reference.
    }
  }
  return tags.length > 0 ? tags : null;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
