/**
 * The list's rows kept per target (the explorer's image list, a page at a time): what a page shows
 * of a target (`json`, image-list.ts says what) and its sort key, stored beside the target's facts
 * (target-facts.ts) and dropped with them. Only what blobs decide is kept here; names come from the
 * image records at read time, so a row never disagrees with a record. Asynchronous, as every role.
 */
export interface TargetRow {
  /** The list's Created (unix seconds) of the target, 0 without one: the page's order. */
  created: number;
  json: string;
}

export interface TargetPageQuery {
  /** Rows stored under this key only (target-facts.ts). */
  key: string;
  /** Only targets a dangling record (`moby-dangling@<digest>`) names (true), or another record (false). */
  dangling?: boolean;
  offset: number;
  limit: number;
  /** false: the total of a page that does not end the list is left uncounted (-1), a scan saved. */
  count?: boolean;
}

export interface TargetPages {
  /**
   * Targets some image record names that have a row under `key`, newest `created` first, then by
   * digest (byte order): `limit` of them from `offset`, and how many there are in all.
   */
  pageTargets(query: TargetPageQuery): Promise<{ total: number; digests: string[] }>;
  /** Targets some record names that have no row under `key` (never listed, or facts not kept). */
  targetsWithoutRows(key: string): Promise<string[]>;
  /** The rows (`json`) of those of `digests` that have one under `key`. */
  getTargetRows(digests: readonly string[], key: string): Promise<Map<string, string>>;
  /**
   * Every record's name with its target, by target: what a search may match (names are stored
   * normalized, shown familiar), read from an index without the records' descriptors.
   */
  targetNames(): Promise<Array<{ name: string; digest: string }>>;
}
