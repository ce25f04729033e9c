/**
 * Tar headers byte for byte as Go's archive/tar Writer writes them for the headers containerd's
 * exporter makes (name, mode, size and type only, ModTime zero): USTAR, numbers in zero-padded
 * octal, mtime 0; a PAX extended header first when the size needs more than 11 octal digits or the
 * name cannot be split into USTAR's prefix and name fields.
 */

export const BLOCK_SIZE = 512;
/** What Go's tar.Writer.Close writes: two zero blocks, no padding to a record size. */
export const TAR_TRAILER: Buffer = Buffer.alloc(2 * BLOCK_SIZE);

export type EntryType = 'file' | 'directory';

const TYPE_FLAG: Record<EntryType | 'pax', string> = { file: '0', directory: '5', pax: 'x' };
const NAME_SIZE = 100;
const PREFIX_SIZE = 155;

/** The header block(s) of an entry: 512 bytes, or a PAX header entry and then the 512. */
export function tarHeader(name: string, type: EntryType, mode: number, size: number): Buffer {
  const nameTooLong = Buffer.byteLength(name) > NAME_SIZE;
  const split = nameTooLong ? splitUstarPath(name) : undefined;
  const sizeFits = fitsInOctal(12, size);
  if (sizeFits && (!nameTooLong || split)) {
    return headerBlock({ name: split?.suffix ?? name, prefix: split?.prefix ?? '', type, mode, size, pax: false });
  }

  const records: Array<[string, string]> = [];
  if (nameTooLong) records.push(['path', name]);
  if (!sizeFits) records.push(['size', String(size)]);
  records.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const data = Buffer.from(records.map(([k, v]) => paxRecord(k, v)).join(''));
  const slash = name.lastIndexOf('/');
  const paxName = `${name.slice(0, slash + 1)}PaxHeaders.0/${name.slice(slash + 1)}`.slice(0, NAME_SIZE).replace(/\/+$/, '');
  return Buffer.concat([
    rawPaxBlock(paxName, data.length),
    data,
    tarPadding(data.length),
    headerBlock({ name, prefix: '', type, mode, size, pax: true }),
  ]);
}

/** Zeros up to the next block boundary after `size` bytes of data. */
export function tarPadding(size: number): Buffer {
  const rest = size % BLOCK_SIZE;
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK_SIZE - rest);
}

interface HeaderFields {
  name: string;
  prefix: string;
  type: EntryType;
  mode: number;
  size: number;
  /** Written after a PAX header: fields that do not fit are cut or zeroed, as Go leaves them. */
  pax: boolean;
}

// Field offsets and lengths of a USTAR header block.
const F = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  chksum: [148, 8],
  typeflag: [156, 1],
  magic: [257, 6],
  version: [263, 2],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
} as const satisfies Record<string, readonly [number, number]>;

/** templateV7Plus + setFormat(USTAR or PAX): uname, gname and linkname empty, dev numbers 0. */
function headerBlock(h: HeaderFields): Buffer {
  const block = Buffer.alloc(BLOCK_SIZE);
  block.write(TYPE_FLAG[h.type], F.typeflag[0], 'latin1');
  putString(block, F.name, h.name);
  putOctal(block, F.mode, h.mode);
  putOctal(block, F.uid, 0);
  putOctal(block, F.gid, 0);
  putOctal(block, F.size, h.size);
  putOctal(block, F.mtime, 0);
  putOctal(block, F.devmajor, 0);
  putOctal(block, F.devminor, 0);
  if (!h.pax) putString(block, F.prefix, h.prefix);
  return finish(block);
}

/** writeRawFile: the PAX header entry, with fewer fields set than a regular header. */
function rawPaxBlock(name: string, size: number): Buffer {
  const block = Buffer.alloc(BLOCK_SIZE);
  block.write(TYPE_FLAG.pax, F.typeflag[0], 'latin1');
  putString(block, F.name, name);
  putOctal(block, F.mode, 0);
  putOctal(block, F.uid, 0);
  putOctal(block, F.gid, 0);
  putOctal(block, F.size, size);
  putOctal(block, F.mtime, 0);
  return finish(block);
}

/** Magic and version ("ustar\0", "00"), then the checksum: six octal digits, NUL, space. */
function finish(block: Buffer): Buffer {
  block.write('ustar\0', F.magic[0], 'latin1');
  block.write('00', F.version[0], 'latin1');
  let sum = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) sum += i >= F.chksum[0] && i < F.chksum[0] + F.chksum[1] ? 0x20 : block[i]!;
  putOctal(block, [F.chksum[0], 7], sum);
  block[F.chksum[0] + 7] = 0x20;
  return block;
}

/** Go's formatString: as much as fits, NUL-terminated when shorter than the field. */
function putString(block: Buffer, [offset, length]: readonly [number, number], s: string): void {
  const bytes = Buffer.from(s, 'latin1');
  bytes.copy(block, offset, 0, Math.min(bytes.length, length));
  if (bytes.length < length) block[offset + bytes.length] = 0;
}

/** Go's formatOctal: zero-padded to the field less one byte, then NUL; 0 when it does not fit. */
function putOctal(block: Buffer, field: readonly [number, number], value: number): void {
  const v = fitsInOctal(field[1], value) ? value : 0;
  putString(block, field, v.toString(8).padStart(field[1] - 1, '0'));
}

function fitsInOctal(fieldLength: number, value: number): boolean {
  return value >= 0 && (fieldLength >= 22 || value < 8 ** (fieldLength - 1));
}

/** Go's splitUSTARPath: a name too long for the name field, cut at a slash into prefix and name. */
function splitUstarPath(name: string): { prefix: string; suffix: string } | undefined {
  let length = name.length;
  if (length <= NAME_SIZE || !/^[\x00-\x7f]*$/.test(name)) return undefined;
  if (length > PREFIX_SIZE + 1) length = PREFIX_SIZE + 1;
  else if (name[length - 1] === '/') length--;
  const i = name.lastIndexOf('/', length - 1);
  const suffixLength = name.length - i - 1;
  if (i <= 0 || suffixLength > NAME_SIZE || suffixLength === 0 || i > PREFIX_SIZE) return undefined;
  return { prefix: name.slice(0, i), suffix: name.slice(i + 1) };
}

/** `<length> key=value\n`, the length counting itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLength = Buffer.byteLength(body);
  let size = bodyLength + String(bodyLength).length;
  if (String(size).length + bodyLength !== size) size = String(size).length + bodyLength;
  return `${size}${body}`;
}
