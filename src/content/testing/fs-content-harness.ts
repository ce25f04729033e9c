import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Harness } from '../../util/conformance.js';
import { FsContentStore } from '../fs-content-store.js';
import type { ContentStoreUnderTest } from './content-store-conformance.js';

/** An FsContentStore on a temp dir, for the conformance suites; corruption flips a byte of the blob's file. */
export async function fsContentHarness(): Promise<Harness<ContentStoreUnderTest>> {
  const root = mkdtempSync(path.join(tmpdir(), 'lading-content-'));
  const content = new FsContentStore(root);
  await content.init();
  const corrupt = async (digest: string): Promise<void> => {
    const file = content.blobFile(digest);
    const bytes = await readFile(file);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
    await writeFile(file, bytes);
  };
  return { store: { content, corrupt }, close: () => rmSync(root, { recursive: true, force: true }) };
}
