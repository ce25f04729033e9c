import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ContentStore } from '../content/content-store.js';
import { InvalidArgumentError } from '../errors.js';
import { ExpansionError, type ExpansionLimits } from './compression.js';
import { analyzeLayer, LayerAnalyzer, type LayerAnalysis, type LayerStreamAnalysis } from './layer-facts.js';

/**
 * What the pool posts to its worker: a stored layer file to analyse; or a layer streamed to it
 * (`open`, its bytes in order with `write`, `end`), as a pull downloads it; or to stop either.
 */
export type AnalysisRequest =
  | { type: 'analyze'; id: number; file: string; limits: ExpansionLimits }
  | { type: 'open'; id: number; limits: ExpansionLimits }
  | { type: 'write'; id: number; chunk: Uint8Array }
  | { type: 'end'; id: number }
  | { type: 'cancel'; id: number };

/**
 * The worker's answer: the analysis, or what made the blob unreadable as a layer; for a streamed
 * layer also, after each write, that its bytes were taken, and the limit's refusal once there is one.
 */
export type AnalysisReply =
  | { type: 'done'; id: number; analysis: LayerAnalysis }
  | { type: 'failed'; id: number; error: { message: string; invalidArgument: boolean } }
  | { type: 'written'; id: number; bytes: number; refusal?: string };

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
  /** Streamed analyses: not queued (their download is under way) nor counted against `parallel`. */
  private readonly streams = new Map<number, WorkerLayerAnalysis>();
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

  /**
   * An analysis fed a layer's bytes as they arrive, run on the worker: the caller keeps the network
   * and the store, the worker inflates, hashes and parses the tar.
   */
  open(limits: ExpansionLimits): LayerStreamAnalysis {
    const id = this.nextId++;
    const stream = new WorkerLayerAnalysis(id, (request, transfer) => this.post(request, transfer), () => this.forgetStream(id));
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.streams.set(id, stream);
    this.post({ type: 'open', id, limits });
    return stream;
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
      this.post({ type: 'analyze', id: job.id, file: job.file, limits: job.limits });
    }
    if (this.running.size === 0 && this.streams.size === 0 && this.worker && !this.idleTimer) {
      this.idleTimer = setTimeout(() => void this.stopWorker(), IDLE_MS).unref();
    }
  }

  private post(request: AnalysisRequest, transfer?: ArrayBuffer[]): void {
    this.ensureWorker().postMessage(request, transfer);
  }

  private forgetStream(id: number): void {
    if (this.streams.delete(id)) this.dispatch();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./layer-analysis-worker.js', import.meta.url));
    // A pool at rest must not keep the daemon (or a test) alive.
    worker.unref();
    worker.on('message', (reply: AnalysisReply) => {
      const stream = this.streams.get(reply.id);
      if (stream) {
        stream.answer(reply);
        return;
      }
      const job = this.running.get(reply.id);
      if (!job || reply.type === 'written') return;
      this.running.delete(reply.id);
      if (reply.type === 'failed') job.reject(replyError(reply.error));
      else job.resolve(reply.analysis);
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
    const streams = [...this.streams.values()];
    this.streams.clear();
    for (const stream of streams) stream.lost(err);
    return worker;
  }

  private async stopWorker(err = new Error('layer analysis worker stopped')): Promise<void> {
    await this.forgetWorker(err)?.terminate();
  }
}

function replyError(error: { message: string; invalidArgument: boolean }): Error {
  return error.invalidArgument ? new InvalidArgumentError(error.message) : new Error(error.message);
}

/** Bytes a streamed analysis may have sent that the worker has not taken yet: what it holds for a layer. */
const STREAM_WINDOW_BYTES = 4 * 1024 * 1024;

/** A layer analysed on the worker from the bytes the caller writes; `write` waits while the worker is behind. */
class WorkerLayerAnalysis implements LayerStreamAnalysis {
  private unanswered = 0;
  private refused: ExpansionError | undefined;
  private failure: Error | undefined;
  private ended = false;
  private wake: (() => void) | undefined;
  private readonly result: Promise<LayerAnalysis>;
  private settle!: { resolve: (analysis: LayerAnalysis) => void; reject: (err: Error) => void };

  constructor(
    private readonly id: number,
    private readonly post: (request: AnalysisRequest, transfer?: ArrayBuffer[]) => void,
    private readonly forget: () => void,
  ) {
    this.result = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    // Rejected before `end` is called when the worker is lost; end's caller sees it.
    this.result.catch(() => undefined);
  }

  get refusal(): ExpansionError | undefined {
    return this.refused;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.ended) throw new Error('write after end');
    if (this.failure || this.refused || chunk.byteLength === 0) return;
    // A copy of exactly these bytes, moved to the worker: the caller's chunk may share its memory
    // (a socket's read) and goes to the store at the same time.
    const copy = new Uint8Array(chunk);
    this.unanswered += copy.byteLength;
    this.post({ type: 'write', id: this.id, chunk: copy }, [copy.buffer]);
    while (this.unanswered > STREAM_WINDOW_BYTES && !this.failure && !this.refused) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  end(): Promise<LayerAnalysis> {
    if (this.ended) throw new Error('end called twice');
    this.ended = true;
    if (!this.failure) this.post({ type: 'end', id: this.id });
    return this.result;
  }

  abort(): void {
    this.ended = true;
    if (!this.failure) this.post({ type: 'cancel', id: this.id });
    this.lost(new Error('layer analysis abandoned'));
  }

  answer(reply: AnalysisReply): void {
    if (reply.type === 'written') {
      this.unanswered -= reply.bytes;
      if (reply.refusal !== undefined) this.refused ??= new ExpansionError(reply.refusal);
      this.wakeWriter();
      return;
    }
    this.forget();
    if (reply.type === 'failed') this.settle.reject(replyError(reply.error));
    else this.settle.resolve(reply.analysis);
  }

  /** The worker is gone (or the caller gave up): nothing more comes. */
  lost(err: Error): void {
    this.failure ??= err;
    this.forget();
    this.settle.reject(err);
    this.wakeWriter();
  }

  private wakeWriter(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
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

/**
 * An analysis for a layer of `size` bytes that a pull streams as it downloads it: on the pool's
 * worker thread unless the layer is small, so that inflating and hashing many layers at once
 * leaves the main thread to the network and the store.
 */
export function openLayerAnalysis(limits: ExpansionLimits, size: number): LayerStreamAnalysis {
  return size >= WORKER_FROM_BYTES ? shared.open(limits) : new LayerAnalyzer(limits);
}
