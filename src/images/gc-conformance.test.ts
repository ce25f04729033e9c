import { fsContentHarness } from '../content/testing/fs-content-harness.js';
import { sqliteHarness } from '../metadata/testing/sqlite-harness.js';
import type { Harness } from '../util/conformance.js';
import { runGarbageCollectionConformance, type StoresUnderTest } from './testing/gc-conformance.js';

async function fsAndSqlite(): Promise<Harness<StoresUnderTest>> {
  const [content, metadata] = [await fsContentHarness(), await sqliteHarness()];
  return {
    store: { content: content.store.content, metadata: metadata.store },
    close: async () => {
      await metadata.close();
      await content.close();
    },
  };
}

runGarbageCollectionConformance('FsContentStore and SqliteMetadataStore', fsAndSqlite);
