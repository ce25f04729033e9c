/**
 * Test helpers: archives written to hurt the importer. Raw tar headers (any name bytes, any type,
 * any size, PAX records), zstd frames of RLE blocks (a few bytes per 128 KiB: bombs), and small
 * valid images to wrap them in.
 */
import { gzipSync } from 'node:zlib';
import { MediaType } from '../../oci/media-types.js';
import type { Descriptor } from '../../oci/types.js';
import { sha256 } from './archive-builder.js';
import { blob, blobEntry, configJson, OCI_LAYOUT, ociIndex, ociManifest, type Blob } from './image-builder.js';

const BLOCK = 512;

export interface RawHeader {
  name: string | Buffer;
  /** The size field; `data` (when given) is what actually follows, padded. */
  size?: number;
  /** Type flag: '0' file, '1' hard link, '2' symlink, '5' directory, 'x' PAX, 'L' GNU long name... */
  type?: string;
  linkname?: string | Buffer;
  data?: Buffer;
}

/** One ustar header block (checksum computed), followed by `data` padded to the block size. */
export function rawEntry(h: RawHeader): Buffer {
  const header = Buffer.alloc(BLOCK);
  Buffer.from(h.name).copy(header, 0, 0, 100);
  header.write('0000644\0', 100, 'latin1');
  header.write('0000000\0', 108, 'latin1');
  header.write('0000000\0', 116, 'latin1');
  const size = h.size ?? h.data?.length ?? 0;
  if (size < 8 ** 11) {
    header.write(size.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
  } else {
    // base-256 for sizes past 8 GiB
    header[124] = 0x80;
    let v = BigInt(size);
    for (let i = 135; i > 124; i--) {
      header[i] = Number(v & 0xffn);
      v >>= 8n;
    }
  }
  header.write('14750140000\0', 136, 'latin1');
  header.write(h.type ?? '0', 156, 'latin1');
  if (h.linkname !== undefined) Buffer.from(h.linkname).copy(header, 157, 0, 100);
  header.write('ustar\0', 257, 'latin1');
  header.write('00', 263, 'latin1');
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  const data = h.data ?? Buffer.alloc(0);
  const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
  return Buffer.concat([header, data, Buffer.alloc(pad)]);
}

/** A PAX extended header entry carrying `records` (for the entry that follows it). */
export function paxEntry(records: Record<string, string>): Buffer {
  const body = Object.entries(records)
    .map(([key, value]) => paxRecord(key, value))
    .join('');
  return rawEntry({ name: 'PaxHeaders/x', type: 'x', data: Buffer.from(body, 'utf8') });
}

function paxRecord(key: string, value: string): string {
  const text = ` ${key}=${value}\n`;
  const bytes = Buffer.byteLength(text);
  let length = bytes + 1;
  while (bytes + String(length).length !== length) length = bytes + String(length).length;
  return `${length}${text}`;
}

/** The two zero blocks that end a tar. */
export const TAR_END = Buffer.alloc(2 * BLOCK);

export function tarOfRaw(entries: Buffer[]): Buffer {
  return Buffer.concat([...entries, TAR_END]);
}

/**
 * A zstd frame: `prefix` stored raw, then `zeros` zero bytes as RLE blocks (4 bytes per 128 KiB),
 * then `suffix` raw. A bomb when `zeros` is large.
 */
export function zstdRle(prefix: Buffer, zeros: number, suffix: Buffer = Buffer.alloc(0)): Buffer {
  const max = 128 * 1024;
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])];
  const blocks: Array<{ raw?: Buffer; rle?: number }> = [];
  for (let o = 0; o < prefix.length; o += max) blocks.push({ raw: prefix.subarray(o, o + max) });
  for (let left = zeros; left > 0; left -= max) blocks.push({ rle: Math.min(max, left) });
  for (let o = 0; o < suffix.length; o += max) blocks.push({ raw: suffix.subarray(o, o + max) });
  if (blocks.length === 0) blocks.push({ raw: Buffer.alloc(0) });
  blocks.forEach((b, i) => {
    const last = i === blocks.length - 1 ? 1 : 0;
    if (b.raw) {
      const h = (b.raw.length << 3) | last;
      parts.push(Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff]), b.raw);
    } else {
      const h = ((b.rle ?? 0) << 3) | (1 << 1) | last;
      parts.push(Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff, 0]));
    }
  });
  return Buffer.concat(parts);
}

/** A layer tar holding one file of `size` zero bytes, zstd-compressed as RLE: tiny, expands to `size`. */
export function zstdZeroLayer(size: number): Buffer {
  const header = rawEntry({ name: 'zeros', size });
  const pad = (BLOCK - (size % BLOCK)) % BLOCK;
  return zstdRle(header, size + pad, TAR_END);
}

/** The same layer gzip-compressed (gzip's ratio tops out near 1000:1). */
export function gzipZeroLayer(size: number): Buffer {
  const pad = (BLOCK - (size % BLOCK)) % BLOCK;
  return gzipSync(Buffer.concat([rawEntry({ name: 'zeros', size }), Buffer.alloc(size + pad), TAR_END]), { level: 1 });
}

/** An OCI layout archive of one image whose only layer is `layerBlob` (diff ID as claimed). */
export function ociArchiveWithLayer(layerBlob: Buffer, diffId: string, mediaType: string, name = 'docker.io/library/hostile:1'): Buffer {
  const layer = blob(layerBlob, mediaType);
  const config = blob(configJson([diffId]), MediaType.ociConfig);
  const manifest = ociManifest(config.desc, [layer.desc]);
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [{ ...manifest.desc, annotations: { 'io.containerd.image.name': name } }],
  };
  return tarOfRaw([
    rawEntry({ name: OCI_LAYOUT.name, data: Buffer.from(OCI_LAYOUT.data) }),
    ...[layer, config, manifest].map((b) => rawEntry({ name: blobEntry(b).name, data: b.data })),
    rawEntry({ name: 'index.json', data: Buffer.from(JSON.stringify(index)) }),
  ]);
}

/** A chain of `depth` indexes, each holding the next, the last holding `manifest`. */
export function indexChain(manifest: Blob, depth: number): { top: Blob; blobs: Blob[] } {
  const blobs: Blob[] = [];
  let child = manifest;
  for (let i = 0; i < depth; i++) {
    child = ociIndex([child.desc]);
    blobs.push(child);
  }
  return { top: child, blobs };
}

/** An image whose target index lists its child `fanOut` times, and so on `depth` levels down. */
export interface FanOutImage {
  /** The top index. */
  top: Blob;
  /** Layer, config, manifest, then the indexes from the innermost up (the top last). */
  blobs: Blob[];
}

/**
 * A small valid image under `depth` nested indexes, each listing its child `fanOut` times: its JSON
 * grows as fanOut × depth, its paths as fanOut^depth (3.2 million for 20 and 5). `marker` makes the
 * image's digests its own.
 */
export function fanOutImage(fanOut: number, depth: number, marker: string): FanOutImage {
  const layer = blob(gzipZeroLayer(512), MediaType.ociLayerGzip);
  const config = blob(configJson([zeroDiffId(512)], { created: '2024-01-02T03:04:05Z', marker }), MediaType.ociConfig);
  const manifest = ociManifest(config.desc, [layer.desc]);
  const blobs = [layer, config, manifest];
  let child: Descriptor = { ...manifest.desc, platform: { architecture: 'amd64', os: 'linux' } };
  for (let i = 0; i < depth; i++) {
    const index = ociIndex(Array.from({ length: fanOut }, () => child));
    blobs.push(index);
    child = index.desc;
  }
  return { top: blobs[blobs.length - 1]!, blobs };
}

/** An OCI layout archive of `image`, named `name` in its index.json. */
export function fanOutArchive(image: FanOutImage, name: string): Buffer {
  const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [{ ...image.top.desc, annotations: { 'io.containerd.image.name': name } }] };
  return tarOfRaw([
    rawEntry({ name: OCI_LAYOUT.name, data: Buffer.from(OCI_LAYOUT.data) }),
    ...image.blobs.map((b) => rawEntry({ name: blobEntry(b).name, data: b.data })),
    rawEntry({ name: 'index.json', data: Buffer.from(JSON.stringify(index)) }),
  ]);
}

export function zeroDiffId(size: number): string {
  const pad = (BLOCK - (size % BLOCK)) % BLOCK;
  return sha256(Buffer.concat([rawEntry({ name: 'zeros', size }), Buffer.alloc(size + pad), TAR_END]));
}
