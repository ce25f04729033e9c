/**
 * Store corruption, reported where it is found. The content store checks every blob it reads
 * against its digest (BlobCorruptError); the image service reads through `reportingCorruption`,
 * so a save, a push, an inspect or any later reader all log it the same way, once per failed read:
 * at error, naming the blob, the images that use it and what the operator should run. The client
 * only sees its request fail (a save cut short, a push's error line, a 500).
 */
import type { Readable } from 'node:stream';
import { BlobCorruptError, type ContentStore } from '../content/content-store.js';
import type { BlobGraph } from '../metadata/blob-graph.js';
import type { ImageRecords } from '../metadata/image-records.js';
import { familiarOfAny, isDangling } from './image-names.js';

/** `content`, with every BlobCorruptError of its reads passed to `report` on its way to the reader. */
export function reportingCorruption(content: ContentStore, report: (err: BlobCorruptError) => void): ContentStore {
  const seen = (err: unknown): void => {
    if (err instanceof BlobCorruptError) report(err);
  };
  return {
    info: (digest) => content.info(digest),
    has: (digest) => content.has(digest),
    readBytes: (digest, maxBytes) =>
      content.readBytes(digest, maxBytes).catch((err: unknown) => {
        seen(err);
        throw err;
      }),
    createReadStream: (digest): Readable => content.createReadStream(digest).on('error', seen),
    ...(content.blobFile ? { blobFile: (digest: string) => content.blobFile!(digest) } : {}),
    openWriter: () => content.openWriter(),
    writeBytes: (data, expected) => content.writeBytes(data, expected),
    delete: (digest) => content.delete(digest),
    list: () => content.list(),
    cleanIngest: () => content.cleanIngest(),
    ...(content.holds ? { holds: content.holds } : {}),
  };
}

/** Images a log line names; a base layer of thousands of images is reported with a count of the rest. */
const MAX_NAMED = 20;

/** The log line: the blob, every image whose target reaches it through the blob graph, and the cure. */
export async function describeCorruptBlob(metadata: BlobGraph & ImageRecords, err: BlobCorruptError): Promise<string> {
  const names = new Set<string>();
  for (const digest of await metadata.blobAncestors(err.digest)) {
    for (const record of await metadata.imagesByTarget(digest)) names.add(isDangling(record) ? record.target.digest : familiarOfAny(record.name));
  }
  const sorted = [...names].sort();
  const more = sorted.length > MAX_NAMED ? ` and ${sorted.length - MAX_NAMED} more` : '';
  const users = sorted.length > 0 ? `used by ${sorted.slice(0, MAX_NAMED).join(', ')}${more}` : 'used by no image';
  return (
    `store corruption: blob ${err.digest} does not match its digest (its bytes hash to ${err.actual}); ${users}. ` +
    'Stop the daemon and run `ladingd check --repair` to remove it, then pull or load those images again'
  );
}
