import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fsContentHarness } from '../content/testing/fs-content-harness.js';
import { sqliteHarness } from '../metadata/testing/sqlite-harness.js';
import { overrideMetadataStore, type MetadataOverrides } from '../metadata/testing/metadata-override.js';
import { failedChecks, type Harness } from '../util/conformance.js';
import { gcChecks, runGarbageCollectionConformance, type StoresUnderTest } from './testing/gc-conformance.js';

async function fsAndSqlite(overrides?: MetadataOverrides): Promise<Harness<StoresUnderTest>> {
  const [content, metadata] = [await fsContentHarness(), await sqliteHarness()];
  return {
    store: { content: content.store.content, metadata: overrides ? overrideMetadataStore(metadata.store, overrides) : metadata.store },
    close: async () => {
      await metadata.close();
      await content.close();
    },
  };
}

runGarbageCollectionConformance('FsContentStore and SqliteMetadataStore', () => fsAndSqlite());

/** A blob graph that forgets the last edge of every write: a manifest's last layer, here. */
const forgetfulGraph: MetadataOverrides = (inner) => ({
  putBlobEdges: (edges) => inner.putBlobEdges(edges.slice(0, -1)),
});

describe('garbage collection conformance against a broken blob graph', () => {
  it('fails a graph that forgets an edge: a named image loses a layer', async (t) => {
    const failed = await failedChecks(gcChecks, () => fsAndSqlite(forgetfulGraph));
    for (const f of failed) t.diagnostic(`${f.name}: ${f.message}`);
    assert.ok(failed.some((f) => f.name === 'once an image names them, its blobs survive sweeps; when it goes, they go with their records'));
  });
});
