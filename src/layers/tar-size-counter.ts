/**
 * Sums the sizes of the regular files of a tar stream fed in chunks, without keeping any file data,
 * on tar-block-walker.ts's walk: PAX `size` overrides, header-only types carry no data, GNU sparse
 * files count their real size. It stops at the first zero block and ignores what follows.
 */
import { HEADER_ONLY, TarBlockWalker, isDirectoryName, padded, parseDecimal, parseNumeric, parsePaxRecords } from './tar-block-walker.js';

/** Long names do not change sizes: only PAX records (`size`, sparse sizes) are read. */
const PAX_ONLY: ReadonlySet<string> = new Set(['x']);

export class TarSizeCounter extends TarBlockWalker {
  /** GNU sparse extension blocks follow the current header. */
  private sparseExtension = false;
  private sparseData = 0;
  private paxSize: number | undefined;
  private paxRealSize: number | undefined;
  private total = 0;

  /** Regular-file bytes counted so far. */
  get size(): number {
    return this.total;
  }

  /** Checks that the stream did not stop inside a header or a file and returns the total. */
  finish(): number {
    this.checkEnd();
    return this.total;
  }

  protected override onSpecial(_type: string, data: Buffer): void {
    this.applyPax(data);
  }

  protected override onBlock(): void {
    const block = this.header;
    if (this.sparseExtension) {
      // Each extension block lists more sparse regions; byte 504 says whether another follows.
      this.sparseExtension = block[504] !== 0;
      if (!this.sparseExtension) this.skip = padded(this.sparseData);
      return;
    }
    const file = this.fileHeader(PAX_ONLY);
    if (!file) return;
    const { type, fieldSize } = file;
    const size = this.paxSize ?? fieldSize;
    const realSize = this.paxRealSize;
    this.paxSize = undefined;
    this.paxRealSize = undefined;

    if (type === 'S') {
      // Old GNU sparse: the size field counts stored data; the file's length is at 483.
      this.total += realSize ?? parseNumeric(block, 483, 12, 'sparse real size');
      this.sparseData = size;
      if (block[482] !== 0) {
        this.sparseExtension = true;
        return;
      }
      this.skip = padded(size);
      return;
    }
    if (HEADER_ONLY.has(type) || (type === '\0' && isDirectoryName(block))) return;
    if (type === '0' || type === '7' || type === '\0') this.total += realSize ?? size;
    this.skip = padded(size);
  }

  private applyPax(data: Buffer): void {
    for (const [key, value] of parsePaxRecords(data)) {
      if (key === 'size') this.paxSize = parseDecimal(value, 'PAX size');
      else if (key === 'GNU.sparse.realsize' || key === 'GNU.sparse.size') {
        this.paxRealSize = parseDecimal(value, 'PAX sparse size');
      }
    }
  }
}
