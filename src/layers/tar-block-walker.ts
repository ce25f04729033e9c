/**
 * The block walk of a tar stream fed in chunks, and the header helpers, that both header readers
 * (tar-size-counter.ts, tar-entry-reader.ts) stand on. It follows Go's archive/tar where it matters:
 * checksums, base-256 numbers, special headers capped at 1 MiB, the first zero block as the end.
 */

export const BLOCK = 512;
/** PAX and GNU long-name headers are held in memory; Go caps them at 1 MiB too. */
export const MAX_SPECIAL_HEADER = 1024 * 1024;

/** Types whose size field does not announce data (Go's isHeaderOnlyType). */
export const HEADER_ONLY = new Set(['1', '2', '3', '4', '5', '6']);

export class TarFormatError extends Error {}

/** The special headers: PAX extended (`x`) and global (`g`), GNU long name (`L`) and long link (`K`). */
const SPECIAL = new Set(['x', 'g', 'L', 'K']);

/** A header that describes a file, as far as the walk reads it. */
export interface FileHeader {
  /** The type flag as stored ('\0' for V7 files). */
  type: string;
  /** The header's size field; a PAX `size` read before it is the reader's to apply. */
  fieldSize: number;
}

/**
 * The walk of a tar stream fed in chunks that both header readers share: 512-byte headers handed to
 * `onBlock`, data and padding passed over (`skip`), a special header's data collected whole for
 * `onSpecial` (after which its padding is passed over).
 */
export abstract class TarBlockWalker {
  protected readonly header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  /** Bytes of data or padding still to pass over. */
  protected skip = 0;
  /** A special header's data being collected; `left` bytes still to come, then `padding`. */
  private collecting: { type: string; parts: Buffer[]; left: number; padding: number } | undefined;
  /** Set at the first zero block: what follows is ignored. */
  protected ended = false;

  update(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.byteLength && !this.ended) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.byteLength - offset);
        this.skip -= n;
        offset += n;
        continue;
      }
      const collecting = this.collecting;
      if (collecting) {
        const n = Math.min(collecting.left, chunk.byteLength - offset);
        collecting.parts.push(Buffer.from(chunk.subarray(offset, offset + n)));
        collecting.left -= n;
        offset += n;
        if (collecting.left === 0) {
          this.collecting = undefined;
          this.onSpecial(collecting.type, Buffer.concat(collecting.parts));
          this.skip = collecting.padding;
        }
        continue;
      }
      const n = Math.min(BLOCK - this.headerFill, chunk.byteLength - offset);
      this.header.set(chunk.subarray(offset, offset + n), this.headerFill);
      this.headerFill += n;
      offset += n;
      if (this.headerFill === BLOCK) {
        this.headerFill = 0;
        this.onBlock();
      }
    }
  }

  /** Throws when the stream stopped inside a header or a file. */
  protected checkEnd(): void {
    if (!this.ended && (this.headerFill > 0 || this.skip > 0 || this.collecting)) {
      throw new TarFormatError('unexpected end of tar data');
    }
  }

  /** The `size` bytes after the current header are a special header's: collect them. */
  private collect(type: string, size: number): void {
    this.collecting = { type, parts: [], left: size, padding: padded(size) - size };
  }

  /**
   * The start of every header, as Go's Reader.Next reads it: the zero block ends the walk, the
   * checksum is verified, and a special header (bounded at 1 MiB) is collected for `onSpecial` when
   * its type is one of `collected` and has data, else passed over (a global PAX header applies to
   * nothing in Go's reader). Returns the header of a file; undefined when the block needs nothing more.
   */
  protected fileHeader(collected: ReadonlySet<string>): FileHeader | undefined {
    const block = this.header;
    if (isZero(block)) {
      this.ended = true;
      return undefined;
    }
    verifyChecksum(block);
    const type = String.fromCharCode(block[156] ?? 0);
    const fieldSize = parseNumeric(block, 124, 12, 'size');
    if (!SPECIAL.has(type)) return { type, fieldSize };
    if (fieldSize > MAX_SPECIAL_HEADER) throw new TarFormatError(`tar header of type ${type} exceeds 1 MiB`);
    if (collected.has(type) && fieldSize > 0) this.collect(type, fieldSize);
    else this.skip = padded(fieldSize);
    return undefined;
  }

  protected abstract onBlock(): void;
  protected abstract onSpecial(type: string, data: Buffer): void;
}

function isZero(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

export function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

export function verifyChecksum(block: Buffer): void {
  const stored = parseOctal(block, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
    unsigned += byte;
    signed += byte >= 0x80 ? byte - 0x100 : byte;
  }
  if (stored === undefined || (stored !== unsigned && stored !== signed)) {
    throw new TarFormatError('invalid tar header: checksum mismatch');
  }
}

/** Octal text, padded with spaces or NULs; undefined when it is not octal. */
function parseOctal(block: Buffer, start: number, length: number): number | undefined {
  const text = block
    .subarray(start, start + length)
    .toString('latin1')
    .replace(/^[ \0]+|[ \0]+$/g, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return undefined;
  return parseInt(text, 8);
}

/** A numeric field: octal text, or base-256 (big-endian, high bit set) for large values. */
export function parseNumeric(block: Buffer, start: number, length: number, what: string): number {
  const first = block[start] ?? 0;
  if (first & 0x80) {
    if (first & 0x40) throw new TarFormatError(`invalid tar header: negative ${what}`);
    let value = first & 0x3f;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + (block[i] ?? 0);
    if (!Number.isSafeInteger(value)) throw new TarFormatError(`invalid tar header: ${what} too large`);
    return value;
  }
  const value = parseOctal(block, start, length);
  if (value === undefined) throw new TarFormatError(`invalid tar header: bad ${what} field`);
  return value;
}

export function parseDecimal(text: string, what: string): number {
  if (!/^[0-9]+$/.test(text)) throw new TarFormatError(`invalid ${what}: ${JSON.stringify(text)}`);
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new TarFormatError(`invalid ${what}: ${text}`);
  return value;
}

/** V7 tars mark directories with a trailing slash rather than a type. */
export function isDirectoryName(block: Buffer): boolean {
  const end = block.indexOf(0, 0);
  const nameEnd = end === -1 || end > 100 ? 100 : end;
  return nameEnd > 0 && block[nameEnd - 1] === 0x2f;
}

/** PAX records: `<length> <key>=<value>\n`, the length counting the whole record. */
export function parsePaxRecords(data: Buffer): Array<[string, string]> {
  const records: Array<[string, string]> = [];
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space === -1) throw new TarFormatError('invalid PAX header: missing record length');
    const length = Number(data.subarray(offset, space).toString('latin1'));
    if (!Number.isSafeInteger(length) || length <= space - offset + 1 || offset + length > data.length) {
      throw new TarFormatError('invalid PAX header: bad record length');
    }
    const record = data.subarray(space + 1, offset + length);
    if (record[record.length - 1] !== 0x0a) throw new TarFormatError('invalid PAX header: record not terminated');
    const text = record.subarray(0, record.length - 1).toString('utf8');
    const eq = text.indexOf('=');
    if (eq === -1) throw new TarFormatError('invalid PAX header: record without "="');
    records.push([text.slice(0, eq), text.slice(eq + 1)]);
    offset += length;
  }
  return records;
}
