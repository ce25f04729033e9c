// The layer analysis pool's worker thread: analyses stored layer files, several at once, so that the
// sha256 of unpacked tars (and zstd, which decodes in JavaScript) runs beside the main thread.
import { createReadStream } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { InvalidArgumentError } from '../errors.js';
import { analyzeLayer } from './layer-facts.js';
import type { AnalysisReply, AnalysisRequest } from './layer-analysis-pool.js';

/** Reads of 1 MiB: the decoder gets its batches without the analyzer gathering them. */
const READ_BYTES = 1024 * 1024;

const port = parentPort;
if (!port) throw new Error('layer-analysis-worker runs in a worker thread');

const running = new Map<number, AbortController>();

port.on('message', (request: AnalysisRequest) => {
  const { id } = request;
  if (request.type === 'cancel') {
    running.get(id)?.abort();
    return;
  }
  const abort = new AbortController();
  running.set(id, abort);
  analyzeLayer(createReadStream(request.file, { highWaterMark: READ_BYTES, signal: abort.signal }), request.limits)
    .then(
      (analysis): AnalysisReply => ({ id, analysis }),
      (err: unknown): AnalysisReply => ({
        id,
        error: { message: err instanceof Error ? err.message : String(err), invalidArgument: err instanceof InvalidArgumentError },
      }),
    )
    .then((reply) => {
      running.delete(id);
      port.postMessage(reply);
    });
});
