import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isNoSpaceErrno } from '../errors.js';

/** The most a reserve holds; on a small disk, a sixteenth of it. */
const MAX_RESERVE_BYTES = 4 * 1024 * 1024;

/**
 * Space held back on the metadata's disk so that removals can commit when it is full: SQLite in
 * WAL mode appends frames even to delete a row, so without room `docker rmi`, the first thing a
 * user tries, would fail too. A removal that hits a full disk releases the reserve and tries once
 * more (the unlinks of the blobs it frees need no space); the reserve is written again once the
 * disk has room for it twice over. The file holds random bytes, fsynced: zeros could be sparse or
 * compressed away and hold nothing.
 */
export class SpaceReserve {
  readonly size: number;
  private present: boolean;

  constructor(readonly file: string) {
    let total = MAX_RESERVE_BYTES * 16;
    try {
      const st = fs.statfsSync(path.dirname(file));
      total = st.blocks * st.bsize;
    } catch {
      // Keep the largest reserve.
    }
    this.size = Math.min(MAX_RESERVE_BYTES, Math.floor(total / 16));
    this.present = sizeOf(file) === this.size;
  }

  get held(): boolean {
    return this.present;
  }

  /** Frees the reserved space; false when there was none to free. */
  release(): boolean {
    if (!this.present) return false;
    this.present = false;
    try {
      fs.unlinkSync(this.file);
      return true;
    } catch {
      return false;
    }
  }

  /** Writes the reserve if it is missing and the disk has room for it twice over; never throws. */
  restore(): void {
    if (this.present || this.size === 0) return;
    try {
      const st = fs.statfsSync(path.dirname(this.file));
      if (st.bavail * st.bsize < 2 * this.size) return;
      const fd = fs.openSync(this.file, 'w', 0o600);
      try {
        fs.writeSync(fd, randomBytes(this.size));
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      this.present = sizeOf(this.file) === this.size;
    } catch (err) {
      // Someone else took the space meanwhile: no half reserve stays behind.
      if (isNoSpaceErrno(err)) fs.rmSync(this.file, { force: true });
    }
  }
}

function sizeOf(file: string): number | undefined {
  try {
    return fs.statSync(file).size;
  } catch {
    return undefined;
  }
}
