// The content store suite must catch a broken store: here one whose commit skips the size check.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failedChecks, type Harness } from '../util/conformance.js';
import type { ContentStore } from './content-store.js';
import { overrideCommit } from './testing/content-store-override.js';
import { contentStoreChecks, type ContentStoreUnderTest } from './testing/content-store-conformance.js';
import { fsContentHarness } from './testing/fs-content-harness.js';

/** `content` with a commit that is told only the digest it should have. */
function sizeBlind(content: ContentStore): ContentStore {
  return overrideCommit(content, (commit, expected, beforePublish) => commit(expected?.digest === undefined ? undefined : { digest: expected.digest }, beforePublish));
}

async function sizeBlindHarness(): Promise<Harness<ContentStoreUnderTest>> {
  const harness = await fsContentHarness();
  return { store: { ...harness.store, content: sizeBlind(harness.store.content) }, close: harness.close };
}

describe('content store conformance suite against a broken store', () => {
  it('fails a commit that skips the size check', async (t) => {
    const failed = await failedChecks(contentStoreChecks, sizeBlindHarness);
    for (const f of failed) t.diagnostic(`${f.name}: ${f.message}`);
    assert.deepEqual(failed.map((f) => f.name), [
      'commit checks the size: a mismatch is an InvalidArgumentError and leaves nothing',
      'writeBytes verifies what it is told to expect',
    ]);
  });
});
