import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ContentStore } from '../content/content-store.js';
import { InvalidArgumentError } from '../errors.js';
import type { ExpansionLimits } from './compression.js';
import { analyzeLayer, type LayerAnalysis } from './layer-facts.js';

/** What the pool posts to its worker: a stored layer file to analyse, or to stop analysing. */
export type AnalysisRequest = { type: 'analyze'; id: number; file: string; limits: ExpansionLimits } | { type: 'cancel'; id: number };

/** The worker's answer: the analysis, or what made the blob unreadable as a layer. */
export type AnalysisReply =
  | { id: number; analysis: LayerAnalysis; error?: undefined }
  | { id: number; error: { message: string; invalidArgument: boolean }; analysis?: undefined };

/** The worker is ended after this long without work, so that a daemon at rest keeps no thread nor its heap. */
const IDLE_MS = 5_000;

interface Job {
  id: number;
  file: string;
  limits: ExpansionLimits;
  resolve: (analysis: LayerAnalysis) => void;
  reject: (err: Error) => void;
}

/**
 * Analyses stored layers (gunzip or zstd, sha256 of the tar, its size) on one worker thread, up to
 * `parallel` layers at once. A load's layers come one after another in its archive, and on the main
 * thread each one's analysis is a chain in lockstep (inflate a chunk on libuv's pool, hash it,
 * inflate the next): here they unpack side by side while the archive reads on, hashed off the thread
 * that serves requests. One thread, not one per layer: each thread's heap and allocator arena keep
 * tens of MB, and one thread hashes faster than zlib inflates for two.
 */
export class LayerAnalysisPool {
  private worker: Worker | undefined;
  private readonly running = new Map<number, Job>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly parallel: number = Math.max(1, Math.min(4, availableParallelism()))) {}

  analyze(file: string, limits: ExpansionLimits, signal?: AbortSignal): Promise<LayerAnalysis> {
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const job: Job = { id: this.nextId++, file, limits, resolve, reject };
      if (signal) {
        const onAbort = (): void => this.cancel(job, signal.reason as Error);
        signal.addEventListener('abort', onAbort, { once: true });
        job.resolve = (analysis) => {
          signal.removeEventListener('abort', onAbort);
          resolve(analysis);
        };
        job.reject = (err) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        };
      }
      this.queue.push(job);
      this.dispatch();
    });
  }

  /** Ends the worker; analyses running or queued are refused. */
  async close(): Promise<void> {
    const closed = new Error('layer analysis pool closed');
    for (const job of this.queue.splice(0)) job.reject(closed);
    await this.stopWorker(closed);
  }

  private dispatch(): void {
    while (this.queue.length > 0 && this.running.size < this.parallel) {
      const job = this.queue.shift()!;
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
      this.running.set(job.id, job);
      this.ensureWorker().postMessage({ type: 'analyze', id: job.id, file: job.file, limits: job.limits } satisfies AnalysisRequest);
    }
    if (this.running.size === 0 && this.worker && !this.idleTimer) {
      this.idleTimer = setTimeout(() => void this.stopWorker(), IDLE_MS).unref();
    }
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./layer-analysis-worker.js', import.meta.url));
    // A pool at rest must not keep the daemon (or a test) alive.
    worker.unref();
    worker.on('message', (reply: AnalysisReply) => {
      const job = this.running.get(reply.id);
      if (!job) return;
      this.running.delete(reply.id);
      if (reply.error) {
        const { message, invalidArgument } = reply.error;
        job.reject(invalidArgument ? new InvalidArgumentError(message) : new Error(message));
      } else {
        job.resolve(reply.analysis);
      }
      this.dispatch();
    });
    const lost = (err: Error): void => {
      if (this.worker !== worker) return;
      this.forgetWorker(err);
      this.dispatch();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`layer analysis worker exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  /** A cancelled job still queued is dropped; a running one is stopped in the worker. */
  private cancel(job: Job, reason: Error): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) this.queue.splice(queued, 1);
    else if (this.running.delete(job.id)) this.worker?.postMessage({ type: 'cancel', id: job.id } satisfies AnalysisRequest);
    else return;
    job.reject(reason);
    this.dispatch();
  }

  private forgetWorker(err: Error): Worker | undefined {
    const worker = this.worker;
    this.worker = undefined;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const jobs = [...this.running.values()];
    this.running.clear();
    for (const job of jobs) job.reject(err);
    return worker;
  }

  private async stopWorker(err = new Error('layer analysis worker stopped')): Promise<void> {
    await this.forgetWorker(err)?.terminate();
  }
}

const shared = new LayerAnalysisPool();

/** Below this a layer is analysed on the calling thread: a round trip to the worker (and its start, at rest) costs more. */
const WORKER_FROM_BYTES = 1024 * 1024;

/**
 * A stored layer's facts: from its file on the pool's worker thread where the store has files and
 * the layer is not small, else read back on this thread.
 */
export function analyzeStoredLayer(
  store: ContentStore,
  blob: { digest: string; size: number },
  limits: ExpansionLimits,
  signal?: AbortSignal,
): Promise<LayerAnalysis> {
  const file = blob.size >= WORKER_FROM_BYTES ? store.blobFile?.(blob.digest) : undefined;
  if (file === undefined) return analyzeLayer(store.createReadStream(blob.digest), limits);
  return shared.analyze(file, limits, signal);
}
