/** Raw tar blocks for the header readers' tests: headers written by hand, as no tar tool would. */

/** A header block; `size` written as octal unless it is a Buffer (a base-256 field). */
export function rawHeader(name: string, type: string, size: number | Buffer, magic = 'ustar\u000000'): Buffer {
  const block = Buffer.alloc(512);
  block.write(name, 0, 'utf8');
  block.write('0000644\0', 100);
  if (Buffer.isBuffer(size)) size.copy(block, 124);
  else block.write(size.toString(8).padStart(11, '0') + '\0', 124);
  block.write(type, 156, 'latin1');
  block.write(magic, 257, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return block;
}

/** Data followed by the zeros up to the next 512-byte boundary. */
export function padToBlock(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

/** One PAX record, `<length> <key>=<value>\n`, its length counting itself. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = body.length + 1;
  while (`${length}${body}`.length !== length) length++;
  return `${length}${body}`;
}
