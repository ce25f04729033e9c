// The layer analysis pool's worker thread: analyses stored layer files, and layers streamed to it
// as a pull downloads them, several at once, so that inflating (zlib on libuv's pool, zstd here)
// and the sha256 of unpacked tars run beside the main thread.
import { createReadStream } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { InvalidArgumentError } from '../errors.js';
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
    case 'analyze': {
      const abort = new AbortController();
      running.set(id, abort);
      const file = createReadStream(request.file, { highWaterMark: READ_BYTES, signal: abort.signal });
      void settled(id, analyzeLayer(file, request.limits)).then(() => running.delete(id));
      return;
    }
  }
});
