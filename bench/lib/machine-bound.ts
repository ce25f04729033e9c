// The machine's bound for moving an image in and checking its layers: the transfer itself (skopeo,
// or reading and hashing an archive), and the CPU a bare Node script spends inflating and hashing
// the same layers (what checking diff IDs costs at the least), spread over the cores.
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import os from 'node:os';
import type { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { createZstdDecompressor } from '../../src/layers/zstd-decompressor.js';

/** Where a compressed layer lies in a file. */
export interface LayerSpan {
  offset: number;
  size: number;
}

export interface Cost {
  ms: number;
  /** CPU seconds, all threads. */
  cpu: number;
}

/** zlib's default output chunk (16 KiB) costs a thread pool round trip per chunk. */
const INFLATE_CHUNK = 256 * 1024;

/**
 * Inflates every layer (gzip with zlib, zstd with the decoder Lading uses: native where it loads) and
 * sha256es its output, two layers at a time; the CPU is this process's, all threads.
 */
export async function inflateAndHash(file: string, layers: readonly LayerSpan[]): Promise<Cost> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const one = async (l: LayerSpan): Promise<void> => {
    const hash = createHash('sha256');
    const inflate: Transform = isZstd(file, l.offset) ? createZstdDecompressor() : createGunzip({ chunkSize: INFLATE_CHUNK });
    await pipeline(createReadStream(file, { start: l.offset, end: l.offset + l.size - 1, highWaterMark: 1 << 20 }), inflate, async (out: AsyncIterable<Buffer>) => {
      for await (const chunk of out) hash.update(chunk);
    });
    hash.digest();
  };
  const queue = [...layers];
  await Promise.all([0, 1].map(async () => {
    for (let l = queue.shift(); l; l = queue.shift()) await one(l);
  }));
  const cpu = process.cpuUsage(cpu0);
  return { ms: performance.now() - t0, cpu: (cpu.user + cpu.system) / 1e6 };
}

/** Reads `file` once and sha256es all of it: what receiving and verifying its bytes costs at the least. */
export async function readAndHash(file: string): Promise<Cost> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) hash.update(chunk);
  hash.digest();
  const cpu = process.cpuUsage(cpu0);
  return { ms: performance.now() - t0, cpu: (cpu.user + cpu.system) / 1e6 };
}

/**
 * The machine's bound: the transfer's own time, or, when the work outweighs it, all the CPU the
 * transfer and the layer checks need spread over every core. Milliseconds.
 */
export function machineBoundMs(transfer: Cost, layerChecks: Cost, cores = os.availableParallelism()): number {
  return Math.max(transfer.ms, ((transfer.cpu + layerChecks.cpu) / cores) * 1000);
}

function isZstd(file: string, offset: number): boolean {
  const fd = openSync(file, 'r');
  try {
    const magic = Buffer.alloc(4);
    readSync(fd, magic, 0, 4, offset);
    return magic.readUInt32LE(0) === 0xfd2fb528;
  } finally {
    closeSync(fd);
  }
}
