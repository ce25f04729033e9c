// The layer analysis pool's worker thread: analyses stored layer files, layer files as a load writes
// them, and layers streamed to it as a pull downloads them, several at once, so that inflating (zlib
// on libuv's pool, zstd here) and the sha256 of unpacked tars run beside the main thread.
import { createReadStream, read } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { InvalidArgumentError } from '../errors.js';
import type { ExpansionLimits } from './compression.js';
import { analyzeLayer, LayerAnalyzer, type LayerAnalysis } from './layer-facts.js';
import type { AnalysisReply, AnalysisRequest } from './layer-analysis-pool.js';

/** Reads of 1 MiB: the decoder gets its batches without the analyzer gathering them. */
const READ_BYTES = 1024 * 1024;

const port = parentPort;
if (!port) throw new Error('layer-analysis-worker runs in a worker thread');

const running = new Map<number, AbortController>();

/** A streamed layer: its analyzer and the chain that keeps its writes in order. */
interface Stream {
  analyzer: LayerAnalyzer;
  tail: Promise<void>;
}
const streams = new Map<number, Stream>();

/** A file being written that the worker reads as far as it is: how far that is, and who waits for more. */
interface Followed {
  written: number;
  size: number | undefined;
  abort: AbortController;
  wake: (() => void) | undefined;
}
const followed = new Map<number, Followed>();

function readAt(fd: number, buffer: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    read(fd, buffer, 0, buffer.byteLength, position, (err, bytesRead) => (err ? reject(err) : resolve(bytesRead))),
  );
}

/**
 * Reads the file at `fd` as it is written, READ_BYTES at a time (fewer only at its end), into an
 * analyzer; stops early once the layer is refused for its size, which `end` then throws.
 */
async function followLayer(fd: number, file: Followed, limits: ExpansionLimits): Promise<LayerAnalysis> {
  const analyzer = new LayerAnalyzer(limits);
  const { signal } = file.abort;
  let position = 0;
  try {
    while (file.size === undefined || position < file.size) {
      signal.throwIfAborted();
      const end = file.size ?? Number.POSITIVE_INFINITY;
      const ready = Math.min(file.written, end) - position;
      if (ready < READ_BYTES && file.written < end) {
        await new Promise<void>((resolve) => (file.wake = resolve));
        continue;
      }
      const buffer = Buffer.allocUnsafe(Math.min(ready, READ_BYTES));
      const bytesRead = await readAt(fd, buffer, position);
      if (bytesRead === 0) throw new Error(`layer file ended at ${position} bytes of ${end}`);
      position += bytesRead;
      await analyzer.write(bytesRead < buffer.byteLength ? buffer.subarray(0, bytesRead) : buffer);
      if (analyzer.refusal) break;
    }
  } catch (err) {
    analyzer.abort();
    throw err;
  }
  return analyzer.end();
}

function settled(id: number, outcome: Promise<LayerAnalysis>): Promise<void> {
  return outcome
    .then(
      (analysis): AnalysisReply => ({ type: 'done', id, analysis }),
      (err: unknown): AnalysisReply => ({
        type: 'failed',
        id,
        error: { message: err instanceof Error ? err.message : String(err), invalidArgument: err instanceof InvalidArgumentError },
      }),
    )
    .then((reply) => port!.postMessage(reply));
}

port.on('message', (request: AnalysisRequest) => {
  const { id } = request;
  switch (request.type) {
    case 'cancel': {
      running.get(id)?.abort();
      followed.get(id)?.wake?.();
      streams.get(id)?.analyzer.abort();
      streams.delete(id);
      return;
    }
    case 'open': {
      streams.set(id, { analyzer: new LayerAnalyzer(request.limits), tail: Promise.resolve() });
      return;
    }
    case 'write': {
      const stream = streams.get(id);
      if (!stream) return;
      const { chunk } = request;
      stream.tail = stream.tail.then(async () => {
        await stream.analyzer.write(chunk);
        const refusal = stream.analyzer.refusal?.message;
        port.postMessage({ type: 'written', id, bytes: chunk.byteLength, ...(refusal !== undefined ? { refusal } : {}) } satisfies AnalysisReply);
      });
      return;
    }
    case 'end': {
      const stream = streams.get(id);
      if (!stream) return;
      streams.delete(id);
      void settled(id, stream.tail.then(() => stream.analyzer.end()));
      return;
    }
    case 'follow': {
      const abort = new AbortController();
      const file: Followed = { written: request.written, size: request.size, abort, wake: undefined };
      running.set(id, abort);
      followed.set(id, file);
      void settled(id, followLayer(request.fd, file, request.limits)).then(() => {
        running.delete(id);
        followed.delete(id);
      });
      return;
    }
    case 'grow': {
      const file = followed.get(id);
      if (!file) return;
      file.written = Math.max(file.written, request.written);
      file.size = request.size;
      const wake = file.wake;
      file.wake = undefined;
      wake?.();
      return;
    }
    case 'analyze': {
      const abort = new AbortController();
      running.set(id, abort);
      const file = createReadStream(request.file, { highWaterMark: READ_BYTES, signal: abort.signal });
      void settled(id, analyzeLayer(file, request.limits)).then(() => running.delete(id));
      return;
    }
  }
});
