import { withCommit, writeWhole, type BlobWriter, type ContentStore } from '../content-store.js';

/**
 * `inner` with some methods replaced, for tests that pause or break a store; `writeBytes` goes
 * through the (possibly replaced) `openWriter` unless replaced itself.
 */
export function overrideContentStore(inner: ContentStore, overrides: Partial<ContentStore>): ContentStore {
  const openWriter = overrides.openWriter ?? (() => inner.openWriter());
  return {
    info: (d) => inner.info(d),
    has: (d) => inner.has(d),
    readBytes: (d, max) => inner.readBytes(d, max),
    createReadStream: (d) => inner.createReadStream(d),
    writeBytes: (data, expected) => writeWhole(openWriter, data, expected),
    delete: (d) => inner.delete(d),
    list: () => inner.list(),
    cleanIngest: () => inner.cleanIngest(),
    ...(inner.holds ? { holds: inner.holds } : {}),
    ...overrides,
    openWriter,
  };
}

/** `inner` whose writers commit through `commit`, which is handed the inner writer's own. */
export function overrideCommit(inner: ContentStore, commit: (innerCommit: BlobWriter['commit'], ...args: Parameters<BlobWriter['commit']>) => ReturnType<BlobWriter['commit']>): ContentStore {
  return overrideContentStore(inner, {
    async openWriter(): Promise<BlobWriter> {
      const writer = await inner.openWriter();
      return withCommit(writer, (expected, beforePublish) => commit((e, b) => writer.commit(e, b), expected, beforePublish));
    },
  });
}
