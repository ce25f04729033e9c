// The bench's big archive with its layers in zstd instead of gzip: the same files, recompressed once
// by skopeo (as a registry's zstd images are made) and kept in the bench cache beside the gzip one.
import { closeSync, existsSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from '../../test/support/exec.js';
import type { BigArchive } from './big-archive.js';
import { SKOPEO } from './registry-tools.js';

const ZSTD_MAGIC = 0xfd2fb528;

/** `gz` with zstd layers, as an OCI archive (`oci-archive:` in skopeo's words). */
export async function zstdArchive(gz: BigArchive, log: (msg: string) => void): Promise<BigArchive> {
  const file = path.join(path.dirname(gz.file), 'archive-zstd.tar');
  const metaFile = `${file}.json`;
  if (!existsSync(metaFile)) {
    rmSync(file, { force: true });
    log(`recompressing ${gz.file}'s layers with zstd into ${file} (kept for later runs)`);
    const res = await run(SKOPEO, ['copy', '--quiet', '--dest-compress-format', 'zstd', `oci-archive:${gz.file}`, `oci-archive:${file}`], { timeoutMs: 30 * 60_000 });
    if (res.code !== 0) throw new Error(`skopeo copy to zstd exited ${res.code}: ${res.stderr.trim()}`);
    const layers = zstdEntries(file);
    if (layers.length !== gz.layers.length) throw new Error(`${file}: ${layers.length} zstd layers, expected ${gz.layers.length}`);
    const meta: BigArchive = { file, bytes: statSync(file).size, layers, unpackedBytes: gz.unpackedBytes };
    writeFileSync(metaFile, JSON.stringify(meta));
  }
  return JSON.parse(readFileSync(metaFile, 'utf8')) as BigArchive;
}

/** Where the archive's zstd entries lie: a walk of its tar headers (ustar and PAX, sizes in octal). */
function zstdEntries(file: string): BigArchive['layers'] {
  const fd = openSync(file, 'r');
  const spans: BigArchive['layers'] = [];
  try {
    const header = Buffer.alloc(512);
    const magic = Buffer.alloc(4);
    for (let pos = 0; readSync(fd, header, 0, 512, pos) === 512 && header.some((b) => b !== 0); ) {
      const size = parseInt(header.toString('latin1', 124, 136).replace(/\0.*$/, '').trim() || '0', 8);
      const type = String.fromCharCode(header[156] ?? 0);
      const data = pos + 512;
      if ((type === '0' || type === '\0') && size >= 4) {
        readSync(fd, magic, 0, 4, data);
        if (magic.readUInt32LE(0) === ZSTD_MAGIC) spans.push({ offset: data, size });
      }
      pos = data + Math.ceil(size / 512) * 512;
    }
  } finally {
    closeSync(fd);
  }
  return spans;
}
