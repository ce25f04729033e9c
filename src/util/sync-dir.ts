import { promises as fs } from 'node:fs';

/** fsync of a directory, so that a rename or a new file in it survives a power cut. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
