/**
 * The explorer's image list a page at a time, from the rows the metadata keeps per target
 * (metadata/target-pages.ts): a page reads its own targets' records and rows, ordered by an index,
 * instead of every image's facts. What it answers is `docker images`' list (listImages, over the
 * same facts) sliced: the summaries are built by the same function, only fewer of them.
 *
 * Targets without a stored row (their facts not gathered yet, or incomplete, which are never
 * stored: image-list.ts) are gathered as the list gathers them and merged into the order.
 */
import { filterBool, validateFilters, type FilterArgs } from '../filters/filter-args.js';
import type { ImageRecord } from '../metadata/metadata-store.js';
import type { ImageSummary, ListPage } from './explorer-api-types.js';
import { ACCEPTED_IMAGE_FILTERS, listImages, newestFirst, type FactsSource, type TargetFacts, type TargetFactsStore } from './image-list.js';
import { parseRow } from './list-rows.js';
import { searchIndex, searchMatches, type SearchIndex } from './search-index.js';

export interface ListPageOptions {
  /** Words that every shown image's names or ID contain. */
  search?: string;
  filters: FilterArgs;
  offset: number;
  limit: number;
}

/** A search matching more targets than this is left to the whole list and its search index (image-explorer.ts). */
const MAX_SEARCHED = 5_000;
/** Above this many targets, their records are read in one list rather than target by target. */
const BY_TARGET_MAX = 500;

/** Pages ending before this are read from the page index, not from a kept order (which a first page would wait for). */
const SHALLOW = 1_000;
/** Orders kept: of all targets, and of the dangling or named ones. */
const KEPT_ORDERS = 2;

const LIST = { all: false, sharedSize: false, manifests: true } as const;

/** The lower-case words of a search. */
export function searchWords(search: string | undefined): string[] {
  return (search ?? '').toLowerCase().split(/\s+/).filter(Boolean);
}

/** What a search matches against: the image's ID, tags and digests, lower case, space-separated. */
export function searchLine(s: ImageSummary): string {
  return [s.id, ...(s.repoTags ?? []), ...(s.repoDigests ?? [])].join(' ').toLowerCase();
}

/** The records and facts of the named targets without a stored row, for one generation and facts epoch. */
interface Unstored {
  generation: number;
  factsEpoch: number;
  records: ImageRecord[];
  facts: Map<string, TargetFacts>;
}

/** The search lines of one generation's named targets (search-index.ts), `digests` in line order. */
interface TargetNames {
  generation: number;
  digests: string[];
  index: SearchIndex;
}

export class ImagePages {
  private unstored: Unstored | undefined;
  private targetNames: TargetNames | undefined;
  /** By dangling mode: the order of one generation and facts epoch (a digest list, ~10 MB at 100,000). */
  private readonly orders = new Map<string, { generation: number; factsEpoch: number; digests: string[] }>();

  constructor(
    private readonly source: FactsSource,
    private readonly targetFacts: TargetFactsStore,
  ) {}

  /**
   * A page of the list (with the explorer's search), or undefined when its filters need the whole
   * list: only `dangling` is paged by the metadata; a search reads the targets it may match (at
   * most MAX_SEARCHED), whatever the filters. Run in the caller's read section (no sweep meanwhile).
   */
  async page(options: ListPageOptions): Promise<ListPage | undefined> {
    validateFilters(options.filters, ACCEPTED_IMAGE_FILTERS);
    const words = searchWords(options.search);
    if (words.length > 0) return this.searched(options, words);
    if ([...options.filters.keys()].some((k) => k !== 'dangling')) return undefined;
    const dangling = options.filters.has('dangling') ? filterBool(options.filters, 'dangling', false) : undefined;

    const unstored = await this.unstoredTargets();
    const extras = unstored.records.length > 0 ? await this.summaries(unstored.records, unstored.facts, options.filters) : [];
    const { offset, limit } = options;
    if (extras.length === 0 && dangling === undefined && offset + limit <= SHALLOW && !this.kept(dangling)) {
      const page = await this.shallow(offset, limit, unstored.generation);
      if (page) return { total: page.total, offset, images: await this.summariesOf(page.digests, options.filters) };
    }
    const order = await this.order(dangling);
    if (extras.length === 0) {
      return { total: order.length, offset, images: await this.summariesOf(order.slice(offset, offset + limit), options.filters) };
    }
    // The stored rows up to the page's end, merged with the others in the list's order.
    const merged = [...(await this.summariesOf(order.slice(0, offset + limit), options.filters)), ...extras].sort(newestFirst);
    return { total: order.length + extras.length, offset, images: merged.slice(offset, offset + limit) };
  }

  /**
   * A page near the start of the whole list, before an order is kept: the page index read up to the
   * page's end, and the total without a scan: every named target has a row (no extras), so it is
   * the count of named targets. Undefined when a write came after `generation` (of that finding).
   */
  private async shallow(offset: number, limit: number, generation: number): Promise<{ total: number; digests: string[] } | undefined> {
    const { metadata } = this.source;
    const page = await metadata.pageTargets({ key: this.targetFacts.key, offset, limit, count: false });
    const total = page.total >= 0 ? page.total : await metadata.countTargets();
    return metadata.generation === generation ? { total, digests: page.digests } : undefined;
  }

  private kept(dangling: boolean | undefined): string[] | undefined {
    const { generation, factsEpoch } = this.source.metadata;
    const kept = this.orders.get(String(dangling));
    return kept && kept.generation === generation && kept.factsEpoch === factsEpoch ? kept.digests : undefined;
  }

  /**
   * The targets with a row (all, dangling or not), in the list's order: one scan of the page index
   * (0.1 to 0.4 s at 100,000 targets), kept until a write or a drop of facts, so that every later
   * page, however deep, is a slice.
   */
  private async order(dangling: boolean | undefined): Promise<readonly string[]> {
    const { metadata } = this.source;
    const [generation, factsEpoch] = [metadata.generation, metadata.factsEpoch];
    const mode = String(dangling);
    const kept = this.kept(dangling);
    if (kept) return kept;
    const all = { key: this.targetFacts.key, ...(dangling !== undefined ? { dangling } : {}), offset: 0, limit: Number.MAX_SAFE_INTEGER };
    const { digests } = await metadata.pageTargets(all);
    this.orders.delete(mode);
    this.orders.set(mode, { generation, factsEpoch, digests });
    if (this.orders.size > KEPT_ORDERS) this.orders.delete(this.orders.keys().next().value as string);
    return digests;
  }

  /**
   * The images every word is part of (ID, tags, digests): the targets whose digest and names hold
   * every piece of every word, checked. A word is split at `@`: a repo digest is shown as
   * `repo@digest`, which no stored name holds, while each side is part of a name or of the ID.
   */
  private async searched(options: ListPageOptions, words: string[]): Promise<ListPage | undefined> {
    const pieces = words.flatMap((w) => w.split('@')).filter(Boolean);
    if (pieces.length === 0) return undefined;
    const names = await this.names();
    const digests = searchMatches(names.index, pieces).map((i) => names.digests[i] as string);
    if (digests.length > MAX_SEARCHED) return undefined;
    const found = (await this.summariesOf(digests, options.filters)).filter((s) => {
      const line = searchLine(s);
      return words.every((w) => line.includes(w));
    });
    return { total: found.length, offset: options.offset, images: found.slice(options.offset, options.offset + options.limit) };
  }

  /** A line per named target, its digest and names (lower case), made on a generation's first search and kept. */
  private async names(): Promise<TargetNames> {
    const { metadata } = this.source;
    const generation = metadata.generation;
    if (this.targetNames?.generation === generation) return this.targetNames;
    const digests: string[] = [];
    const lines: string[] = [];
    for (const { name, digest } of await metadata.targetNames()) {
      if (digests.at(-1) === digest) lines[lines.length - 1] += ` ${name.toLowerCase()}`;
      else {
        digests.push(digest);
        lines.push(`${digest} ${name.toLowerCase()}`);
      }
    }
    this.targetNames = { generation, digests, index: searchIndex(lines) };
    return this.targetNames;
  }

  /** The list's summaries of `digests` (those that pass `filters`), newest first, from their rows or gathered now. */
  private async summariesOf(digests: readonly string[], filters: FilterArgs): Promise<ImageSummary[]> {
    if (digests.length === 0) return [];
    const records = await this.recordsOf(digests);
    const rows = await this.source.metadata.getTargetRows(digests, this.targetFacts.key);
    const facts = new Map<string, TargetFacts>();
    for (const [digest, json] of rows) facts.set(digest, parseRow(json));
    return this.summaries(records, facts, filters);
  }

  /** listImages over `records`, with `facts` and, for targets they lack, facts gathered as the list gathers them. */
  private async summaries(records: ImageRecord[], facts: Map<string, TargetFacts>, filters: FilterArgs): Promise<ImageSummary[]> {
    const lacking = records.filter((r) => !facts.has(r.target.digest));
    if (lacking.length > 0) for (const [digest, f] of (await this.targetFacts.snapshot(lacking)).facts) facts.set(digest, f);
    const { metadata, reader } = this.source;
    return listImages({ records, facts, metadata, reader }, { ...LIST, filters });
  }

  /** The records naming `digests`, in name order (as listImages reads them). */
  private async recordsOf(digests: readonly string[]): Promise<ImageRecord[]> {
    const { metadata } = this.source;
    let records: ImageRecord[];
    if (digests.length > BY_TARGET_MAX) {
      const wanted = new Set(digests);
      records = (await metadata.listImages()).filter((r) => wanted.has(r.target.digest));
    } else {
      records = (await Promise.all(digests.map((d) => metadata.imagesByTarget(d)))).flat();
      records.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    }
    return records;
  }

  /**
   * The named targets without a stored row, with their facts: gathered once (those found complete
   * are stored, with their rows, and leave the set) and kept until a write or a drop of facts.
   */
  private async unstoredTargets(): Promise<Unstored> {
    const { metadata } = this.source;
    const [generation, factsEpoch] = [metadata.generation, metadata.factsEpoch];
    const kept = this.unstored;
    if (kept && kept.generation === generation && kept.factsEpoch === factsEpoch) return kept;
    const { key } = this.targetFacts;
    let digests = await metadata.targetsWithoutRows(key);
    let records: ImageRecord[] = [];
    const facts = new Map<string, TargetFacts>();
    if (digests.length > 0) {
      const gathered = await this.targetFacts.snapshot(await this.recordsOf(digests));
      // Those now stored come with their rows from the metadata; only the rest are merged by hand.
      digests = await metadata.targetsWithoutRows(key);
      const left = new Set(digests);
      records = gathered.records.filter((r) => left.has(r.target.digest));
      for (const d of left) {
        const f = gathered.facts.get(d);
        if (f) facts.set(d, f);
      }
    }
    this.unstored = { generation, factsEpoch, records, facts };
    return this.unstored;
  }
}
