/**
 * Pointing a name at an image, for every write that names one: tag, load, import and pull. They
 * differ in one thing, what happens to a record the name already has (`NameWrite`); the rest is
 * Docker's for all of them: the image a name leaves keeps a dangling record when that was its last
 * name (soft_delete.go's softImageDelete and ensureDanglingImage: a new record, so its times are
 * now), and an image that gets a name loses its dangling record. Events stay with the callers: each
 * operation emits its own (tag, load, import, pull).
 */
import type { ImageRecord, ImageRecords } from '../metadata/image-records.js';
import type { Descriptor } from '../oci/types.js';
import { danglingName } from './image-names.js';

/**
 * - `replace`: Docker's createOrReplaceImage (`docker tag`): the name's record is deleted and made
 *   anew, so its createdAt is now; a name already on the target is left as it is, times and all.
 * - `update`: containerd's Update of the target, else Create (its client's Import for a load or an
 *   import, createNewImage for a pull): the record keeps its createdAt and takes updatedAt now, on
 *   the same target too.
 */
export type NameWrite = 'replace' | 'update';

/** Points `name` at `target` in `tx` (the caller's transaction), as `how` says. */
export async function nameImage(tx: ImageRecords, name: string, target: Descriptor, now: string, how: NameWrite): Promise<void> {
  const previous = await tx.getImage(name);
  if (previous?.target.digest === target.digest && how === 'replace') return;
  if (previous && previous.target.digest !== target.digest) {
    const others = (await tx.imagesByTarget(previous.target.digest)).filter((r) => r.name !== name);
    if (others.length === 0) await ensureDanglingImage(tx, previous.target, now);
  }
  // A store's put of an existing name keeps its createdAt: a new record is a delete and a put.
  if (previous && how === 'replace') await tx.deleteImage(name);
  const createdAt = how === 'update' && previous ? previous.createdAt : now;
  const record: ImageRecord = { name, target, createdAt, updatedAt: now };
  await tx.putImage(record);
  if (name !== danglingName(target.digest)) await tx.deleteImage(danglingName(target.digest));
}

/** A dangling record keeping `target`, unless one exists. */
async function ensureDanglingImage(tx: ImageRecords, target: Descriptor, now: string): Promise<void> {
  const name = danglingName(target.digest);
  if (await tx.getImage(name)) return;
  await tx.putImage({ name, target, createdAt: now, updatedAt: now });
}
