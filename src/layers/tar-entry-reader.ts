/**
 * The entries of a tar stream fed in chunks, headers only: file data is passed over, never copied.
 * It reads names as Go's archive/tar does (ustar prefix, GNU long names and links, PAX `path`,
 * `linkpath`, `size`) on tar-block-walker.ts's block walk and header helpers, and stops at the first
 * zero block. Listing a layer costs its decompression and little more (bench `layer-files`).
 */
import { HEADER_ONLY, TarBlockWalker, isDirectoryName, padded, parseDecimal, parseNumeric, parsePaxRecords } from './tar-block-walker.js';

/** Names come from PAX records and GNU long names and links. */
const NAMES: ReadonlySet<string> = new Set(['x', 'L', 'K']);

/** One header of the stream, as it describes a file. */
export interface TarEntry {
  /** The name as stored (may start with `./`, directories may end with `/`). */
  name: string;
  /** The type flag: '0' file, '1' hard link, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo. */
  type: string;
  /** Bytes of a regular file; 0 for the other types. */
  size: number;
  /** Permission and special bits (the header's mode field, without the file type). */
  mode: number;
  /** The target of a link. */
  linkname: string;
}

export class TarEntryReader extends TarBlockWalker {
  private pax = new Map<string, string>();
  private longName: string | undefined;
  private longLink: string | undefined;

  constructor(private readonly onEntry: (entry: TarEntry) => void) {
    super();
  }

  /** Checks that the stream did not stop inside a header or a file. */
  finish(): void {
    this.checkEnd();
  }

  protected override onBlock(): void {
    const file = this.fileHeader(NAMES);
    if (!file) return;
    const { type, fieldSize } = file;
    const block = this.header;
    const paxSize = this.pax.get('size');
    const size = paxSize !== undefined ? parseDecimal(paxSize, 'PAX size') : fieldSize;
    const name = this.pax.get('path') ?? this.longName ?? headerName(block);
    const linkname = this.pax.get('linkpath') ?? this.longLink ?? text(block, 157, 100);
    this.pax = new Map();
    this.longName = undefined;
    this.longLink = undefined;
    const dir = type === '5' || (type === '\0' && isDirectoryName(block)) || (type === '0' && name.endsWith('/'));
    const kind = dir ? '5' : type === '\0' || type === '7' || type === 'S' ? '0' : type;
    const mode = parseNumeric(block, 100, 8, 'mode') & 0o7777;
    this.onEntry({ name, type: kind, size: kind === '0' ? size : 0, mode, linkname: kind === '1' || kind === '2' ? linkname : '' });
    // Old GNU sparse files list more regions in extension blocks; Lading's layers have none, so
    // their data is passed over as stored (the size field counts it).
    if (!HEADER_ONLY.has(type) && !dir) this.skip = padded(size);
  }

  protected override onSpecial(type: string, data: Buffer): void {
    if (type === 'x') for (const [key, value] of parsePaxRecords(data)) this.pax.set(key, value);
    else if (type === 'L') this.longName = cString(data);
    else if (type === 'K') this.longLink = cString(data);
  }
}

/** A NUL-terminated field. */
function text(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

function cString(data: Buffer): string {
  const end = data.indexOf(0);
  return data.subarray(0, end === -1 ? data.length : end).toString('utf8');
}

/** The name field, with the ustar prefix when the header is POSIX ustar (GNU headers use those bytes otherwise). */
function headerName(block: Buffer): string {
  const name = text(block, 0, 100);
  const posix = block.toString('latin1', 257, 263) === 'ustar\0';
  const prefix = posix ? text(block, 345, 155) : '';
  return prefix ? `${prefix}/${name}` : name;
}
