/**
 * What Lading's explorer shows, in the image service's terms: the list (paged and searched here, not
 * in the page), one image's document, graph, layers and history, the files of a layer and of the
 * filesystem up to a layer, dive's efficiency, a comparison of two images, the attestations'
 * summaries, disk usage and what a prune would remove. Everything comes from the calls `docker`
 * uses (list, inspect, attestations, disk usage, prune) or from the same readers; nothing is
 * computed a second way, and nothing here changes the store.
 */
import { NotFoundError } from '../errors.js';
import { summarizeStatement } from '../oci/attestation-summary.js';
import { childrenOf, walkImageGraph } from '../oci/image-graph-walk.js';
import { isManifestType } from '../oci/media-types.js';
import { formatPlatformAll, hostPreferenceMatcher, onlyMatcher } from '../oci/platform.js';
import type { Descriptor, ImageConfig, Platform } from '../oci/types.js';
import type {
  ComparisonPage,
  DiskUsagePage,
  Efficiency,
  EfficiencyPage,
  GraphNode,
  ImageSummary,
  LayerRow,
  LayersPage,
  ListPage,
  PlatformAttestations,
  TreePage,
} from './explorer-api-types.js';
import { efficiency, listDirectory, mergeLayers, type MergedTree } from './file-tree.js';
import { compareImages } from './image-compare.js';
import type { ImageService } from './image-service.js';
import { searchLine, searchWords, type ListPageOptions } from './image-pages.js';
import { searchIndex, searchMatches, type SearchIndex } from './search-index.js';
import type { LayerFile, LayerListings } from './layer-files.js';
import { bestPresentImage } from './present-content.js';
import { resolveImage } from './resolve.js';

export type { ListPageOptions } from './image-pages.js';

export interface PlatformImage {
  manifest: Descriptor;
  platform: Platform;
  config: ImageConfig;
  layers: Descriptor[];
}

/**
 * Merged trees kept, by manifest digest and layer: what a page asks for again and again, one
 * directory at a time. Few: a tree holds a node per path of the image.
 */
const KEPT_TREES = 4;
/** Efficiencies kept, by manifest digest (small: a score and the wasted paths). */
const KEPT_EFFICIENCIES = 32;
/** Whole lists kept (one per filter set): each may hold 100,000 summaries. */
const KEPT_LISTS = 2;

/** A list of one filter set, with its search index, made on the first search. */
interface KeptList {
  generation: number;
  images: ImageSummary[];
  index?: SearchIndex;
}

export class ImageExplorer {
  private readonly trees = new Map<string, MergedTree>();
  private readonly efficiencies = new Map<string, Efficiency>();
  private readonly lists = new Map<string, KeptList>();

  constructor(
    readonly images: ImageService,
    readonly listings: LayerListings,
  ) {}

  /**
   * `docker images` with its filters, searched and paged. A page the metadata can read alone (by
   * its stored rows: image-pages.ts) is read so, and a first page after a start reads no other
   * image. Otherwise the list of a filter set is kept until the store changes (the service's
   * generation moves), so that the next pages and searches of 100,000 images cost a filter and a
   * slice, not a list; only the last two filter sets are kept.
   */
  async list(options: ListPageOptions): Promise<ListPage> {
    const key = JSON.stringify([...options.filters].map(([k, v]) => [k, [...v.keys()].sort()]).sort());
    const generation = this.images.generation;
    let kept = this.lists.get(key);
    if (!kept || kept.generation !== generation) {
      const page = await this.images.listPage(options);
      if (page) return page;
      kept = { generation, images: await this.images.list({ all: false, filters: options.filters, sharedSize: false, manifests: true }) };
      this.lists.delete(key);
      keep(this.lists, key, kept, KEPT_LISTS);
    }
    const words = searchWords(options.search);
    let found = kept.images;
    if (words.length > 0) {
      // Indexed once per kept list: the page searches as one types.
      const images = kept.images;
      found = searchMatches((kept.index ??= searchIndex(images.map(searchLine))), words).map((i) => images[i] as ImageSummary);
    }
    return { total: found.length, offset: options.offset, images: found.slice(options.offset, options.offset + options.limit) };
  }

  /** The image's platform manifest (the host's best without `platform`), its config and layers. */
  platformImage(ref: string, platform?: Platform): Promise<PlatformImage> {
    return this.images.gc.reading(async () => {
      const record = await resolveImage(this.images.metadata, ref);
      const matcher = platform ? onlyMatcher(platform) : hostPreferenceMatcher();
      const best = await bestPresentImage(this.images.reader, record, matcher, platform);
      const manifest = await this.images.reader.readManifest(best.manifest);
      if (!manifest) throw new NotFoundError(`content digest ${best.manifest.digest}: not found`);
      return { manifest: best.manifest, platform: best.platform, config: best.config, layers: manifest.layers };
    });
  }

  /** Every blob under the image's target, each once, with the blobs it lists. */
  graph(ref: string): Promise<{ root: string; nodes: GraphNode[] }> {
    return this.images.gc.reading(async () => {
      const record = await resolveImage(this.images.metadata, ref);
      const nodes = new Map<string, GraphNode>();
      await walkImageGraph(record.target, async (desc) => {
        const present = await this.images.reader.has(desc.digest);
        const children = present ? await childrenOf(this.images.reader, desc) : [];
        // Listed as the document lists them: a blob two manifests share is a child of both, walked once.
        nodes.set(desc.digest, { descriptor: desc, present, children: children.map((c) => c.digest) });
        return children;
      });
      return { root: record.target.digest, nodes: [...nodes.values()] };
    });
  }

  /** The history steps oldest first, each with the layer it made. */
  async layers(ref: string, platform?: Platform): Promise<LayersPage> {
    const img = await this.platformImage(ref, platform);
    const diffIds = img.config.rootfs?.diff_ids ?? [];
    const facts = await Promise.all(img.layers.map((d) => this.images.metadata.getLayerFacts(d.digest)));
    const layerOf = (index: number): LayerRow['layer'] | undefined => {
      const d = img.layers[index];
      if (!d) return undefined;
      const unpackedSize = facts[index]?.unpackedSize;
      return { index, digest: d.digest, mediaType: d.mediaType, size: d.size, diffId: diffIds[index] ?? '', ...(unpackedSize !== undefined ? { unpackedSize } : {}) };
    };
    const rows: LayerRow[] = [];
    let next = 0;
    for (const h of img.config.history ?? []) {
      const emptyLayer = h.empty_layer === true;
      const step = { createdBy: h.created_by ?? '', emptyLayer, ...(h.created ? { created: h.created } : {}), ...(h.comment ? { comment: h.comment } : {}) };
      const layer = emptyLayer ? undefined : layerOf(next++);
      rows.push({ step, ...(layer ? { layer } : {}) });
    }
    for (; next < img.layers.length; next++) rows.push({ layer: layerOf(next)! });
    return { platform: formatPlatformAll(img.platform), manifest: img.manifest.digest, rows };
  }

  /** The kept listing of a layer the store holds (NDJSON), computed first if need be. */
  layerListing(digest: string): Promise<string> {
    return this.images.gc.reading(() => this.listings.listingFile(digest));
  }

  private async layerFiles(img: PlatformImage): Promise<LayerFile[][]> {
    return this.images.gc.reading(async () => {
      const out: LayerFile[][] = [];
      for (const layer of img.layers) out.push(await this.listings.files(layer.digest));
      return out;
    });
  }

  /** One directory of the filesystem of layers 0..`layer` (the last by default), with the markers of that layer. */
  async tree(ref: string, options: { platform?: Platform; layer?: number; dir: string }): Promise<TreePage> {
    const img = await this.platformImage(ref, options.platform);
    const upTo = Math.min(options.layer ?? img.layers.length - 1, img.layers.length - 1);
    if (upTo < 0) return { layers: 0, layer: -1, entries: [] };
    const key = `${img.manifest.digest}:${upTo}`;
    let tree = this.trees.get(key);
    if (!tree) {
      tree = mergeLayers(await this.layerFiles(img), upTo);
      keep(this.trees, key, tree, KEPT_TREES);
    }
    const entries = listDirectory(tree, options.dir);
    if (!entries) throw new NotFoundError(`no such directory in the image: /${options.dir}`);
    return { layers: img.layers.length, layer: upTo, entries };
  }

  /** dive's efficiency score and wasted space, the largest wastes first (`limit` of them). */
  async efficiency(ref: string, options: { platform?: Platform; limit: number }): Promise<EfficiencyPage> {
    const img = await this.platformImage(ref, options.platform);
    let result = this.efficiencies.get(img.manifest.digest);
    if (!result) {
      result = efficiency(await this.layerFiles(img));
      keep(this.efficiencies, img.manifest.digest, result, KEPT_EFFICIENCIES);
    }
    return { ...result, total: result.inefficiencies.length, inefficiencies: result.inefficiencies.slice(0, options.limit) };
  }

  /** Two images, or two platforms of one. */
  async compare(a: { ref: string; platform?: Platform }, b: { ref: string; platform?: Platform }): Promise<ComparisonPage> {
    const side = async (s: { ref: string; platform?: Platform }) => {
      const img = await this.platformImage(s.ref, s.platform);
      const files = await this.layerFiles(img);
      const diffIds = img.config.rootfs?.diff_ids ?? [];
      return {
        manifest: img.manifest.digest,
        layers: img.layers.map((l, i) => ({ digest: l.digest, diffId: diffIds[i] ?? l.digest, size: l.size })),
        config: img.config,
        root: mergeLayers(files).root,
      };
    };
    const [sa, sb] = [await side(a), await side(b)];
    return { a: sa.manifest, b: sb.manifest, ...compareImages(sa, sb) };
  }

  /** The attestations of every platform of the image, summarized (SBOM packages, provenance). */
  async supplyChain(ref: string): Promise<PlatformAttestations[]> {
    const platforms = await this.images.gc.reading(async () => {
      const record = await resolveImage(this.images.metadata, ref);
      const index = isManifestType(record.target.mediaType) ? undefined : await this.images.reader.readIndex(record.target);
      return (index?.manifests ?? []).filter((d) => isManifestType(d.mediaType) && d.platform && d.platform.os !== 'unknown');
    });
    const out: PlatformAttestations[] = [];
    for (const manifest of platforms) {
      const platform = manifest.platform!;
      const found = await this.images.attestations(ref, { platform, predicateTypes: [], statement: true }).catch((err: unknown) => {
        if (err instanceof NotFoundError) return [];
        throw err;
      });
      out.push({
        platform: formatPlatformAll(platform),
        manifest: manifest.digest,
        statements: found.map((s) => ({
          digest: s.descriptor.digest,
          size: s.descriptor.size,
          ...summarizeStatement(s.predicateType, parseJson(s.statement)),
        })),
      });
    }
    return out;
  }

  /** One statement's bytes, when it is an attestation of `ref` (the raw view). */
  async statement(ref: string, digest: string): Promise<Buffer> {
    for (const p of await this.supplyChain(ref)) {
      if (p.statements.some((s) => s.digest === digest)) return this.images.content.readBytes(digest);
    }
    throw new NotFoundError(`no attestation statement ${digest} in ${ref}`);
  }

  /** `docker system df`'s images part, and what `docker image prune [-a]` would remove now. */
  async diskUsage(): Promise<DiskUsagePage> {
    const usage = await this.images.diskUsage();
    const prune = await this.images.prunePlan(new Map());
    const pruneAll = await this.images.prunePlan(new Map([['dangling', new Map([['false', true]])]]));
    return { layersSize: usage.layersSize, reclaimable: usage.reclaimable, images: usage.images, prune, pruneAll };
  }
}

function keep<V>(map: Map<string, V>, key: string, value: V, most: number): void {
  map.set(key, value);
  if (map.size > most) map.delete(map.keys().next().value as string);
}

function parseJson(bytes: Buffer | undefined): unknown {
  if (!bytes) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}
