import { closeSync, openSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { BlobWriter, ContentStore } from '../content/content-store.js';
import { InvalidArgumentError } from '../errors.js';
import { ExpansionError, type ExpansionLimits } from './compression.js';
import { analyzeLayer, LayerAnalyzer, type LayerAnalysis, type LayerStreamAnalysis } from './layer-facts.js';

/**
 * What the pool posts to its worker: a stored layer file to analyse; or a file still being written
 * to follow (`follow` with an open descriptor, then `grow` as more of it is written and once its
 * size is known), as a load stores a layer; or a layer streamed to it (`open`, its bytes in order
 * with `write`, `end`), as a pull downloads it; or to stop any of them.
 */
export type AnalysisRequest =
  | { type: 'analyze'; id: number; file: string; limits: ExpansionLimits }
  | { type: 'follow'; id: number; fd: number; limits: ExpansionLimits; written: number; size: number | undefined }
  | { type: 'grow'; id: number; written: number; size: number | undefined }
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

/** A file still being written: the descriptor the worker reads (closed here once it answers), how much is in it. */
interface FollowedFile {
  fd: number;
  written: number;
  size: number | undefined;
  /** Closed at most once: by the worker's answer once it has the job, else when the job ends unposted. */
  state: 'queued' | 'reading' | 'closed';
}

interface Job {
  id: number;
  source: { file: string } | FollowedFile;
  limits: ExpansionLimits;
  resolve: (analysis: LayerAnalysis) => void;
  reject: (err: Error) => void;
}

/**
 * Analyses stored layers (gunzip or zstd, sha256 of the tar, its size) on worker threads, up to
 * `parallel` layers at once. A load's layers come one after another in its archive, and on the main
 * thread each one's analysis is a chain in lockstep (inflate a chunk on libuv's pool, hash it,
 * inflate the next): here they unpack side by side while the archive reads on, hashed off the thread
 * that serves requests. At most `maxWorkers` threads (2), not one per layer: each thread's heap and
 * allocator arena keep tens of MB. A second one because zstd decodes on the worker's own thread, and
 * one thread decoding and hashing every layer left the other core idle.
 */
export class LayerAnalysisPool {
  /** The workers started, and which one runs each job or stream. */
  private readonly workers: WorkerSlot[] = [];
  private readonly placed = new Map<number, WorkerSlot>();
  private readonly running = new Map<number, Job>();
  /** Streamed analyses: not queued (their download is under way) nor counted against `parallel`. */
  private readonly streams = new Map<number, WorkerLayerAnalysis>();
  private readonly queue: Job[] = [];
  /** Descriptors of followed files the worker may still read, by job: closed only once it answers. */
  private readonly reading = new Map<number, FollowedFile>();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly parallel: number = Math.max(1, Math.min(4, availableParallelism())),
    private readonly maxWorkers: number = Math.max(1, Math.min(2, availableParallelism())),
  ) {}

  analyze(file: string, limits: ExpansionLimits, signal?: AbortSignal): Promise<LayerAnalysis> {
    return this.run({ file }, limits, signal);
  }

  /**
   * Analyses a layer from the file `file` while it is being written, `written` bytes in so far: the
   * caller tells of more with `grow` and of the last with `end`. The worker reads what is written as
   * it can, beside the writing: no bytes are copied between threads, and no reader waits for the
   * other. The file is opened here, at once, so that a rename or removal at its commit changes nothing.
   */
  follow(file: string, written: number, limits: ExpansionLimits, signal?: AbortSignal): FollowedLayer {
    signal?.throwIfAborted();
    const source: FollowedFile = { fd: openSync(file, 'r'), written, size: undefined, state: 'queued' };
    const id = this.nextId;
    const stop = new AbortController();
    const result = this.run(source, limits, signal ? AbortSignal.any([signal, stop.signal]) : stop.signal).finally(() => {
      if (source.state !== 'queued') return;
      source.state = 'closed';
      closeSync(source.fd);
    });
    // Rejected before `end` is called when the load gives up; end's caller sees it.
    result.catch(() => undefined);
    let posted = written;
    const tell = (): void => {
      posted = source.written;
      if (this.running.has(id)) this.post({ type: 'grow', id, written: source.written, size: source.size });
    };
    return {
      grow: (bytes) => {
        source.written = bytes;
        if (bytes - posted >= GROW_STEP_BYTES || (source.size !== undefined && bytes >= source.size)) tell();
      },
      end: (size) => {
        source.size = size;
        tell();
        return result;
      },
      abort: () => stop.abort(new Error('layer analysis abandoned')),
    };
  }

  /** Whether a job given now would run at once, not wait in the queue. */
  get idle(): boolean {
    return this.queue.length === 0 && this.running.size < this.parallel;
  }

  private run(source: Job['source'], limits: ExpansionLimits, signal?: AbortSignal): Promise<LayerAnalysis> {
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const job: Job = { id: this.nextId++, source, limits, resolve, reject };
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
    // A pull's streams share the worker there is: a second one made its zstd pull no faster in A/B
    // runs and cost 50 MB of RSS (bench/README.md, issue 17).
    this.place(id, false);
    this.post({ type: 'open', id, limits });
    return stream;
  }

  /** Ends the worker; analyses running or queued are refused. */
  async close(): Promise<void> {
    const closed = new Error('layer analysis pool closed');
    for (const job of this.queue.splice(0)) job.reject(closed);
    await this.stopWorkers(closed);
  }

  private dispatch(): void {
    while (this.queue.length > 0 && this.running.size < this.parallel) {
      const job = this.queue.shift()!;
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
      this.running.set(job.id, job);
      this.place(job.id);
      const { id, source, limits } = job;
      if ('file' in source) {
        this.post({ type: 'analyze', id, file: source.file, limits });
      } else {
        source.state = 'reading';
        this.reading.set(id, source);
        this.post({ type: 'follow', id, fd: source.fd, limits, written: source.written, size: source.size });
      }
    }
    if (this.running.size === 0 && this.streams.size === 0 && this.workers.length > 0 && !this.idleTimer) {
      this.idleTimer = setTimeout(() => void this.stopWorkers(), IDLE_MS).unref();
    }
  }

  /**
   * Gives job or stream `id` the worker with the least work, a new one (`mayStartAnother`) while every
   * worker has some and fewer than `maxWorkers` run: zstd decodes on the worker's own thread (Node 20 has no zlib
   * zstd), so one worker would decode and hash every layer on one core.
   */
  private place(id: number, mayStartAnother = true): void {
    let slot = this.workers.reduce<WorkerSlot | undefined>((best, s) => (best === undefined || s.load < best.load ? s : best), undefined);
    if (slot === undefined || (mayStartAnother && slot.load > 0 && this.workers.length < this.maxWorkers)) slot = this.startWorker();
    slot.load++;
    this.placed.set(id, slot);
  }

  /** Job or stream `id` has ended: its worker has one less. */
  private unplace(id: number): WorkerSlot | undefined {
    const slot = this.placed.get(id);
    if (slot === undefined) return undefined;
    this.placed.delete(id);
    slot.load--;
    return slot;
  }

  private post(request: AnalysisRequest, transfer?: ArrayBuffer[]): void {
    this.placed.get(request.id)?.worker.postMessage(request, transfer);
  }

  private forgetStream(id: number): void {
    if (!this.streams.delete(id)) return;
    this.unplace(id);
    this.dispatch();
  }

  private startWorker(): WorkerSlot {
    const worker = new Worker(new URL('./layer-analysis-worker.js', import.meta.url));
    const slot: WorkerSlot = { worker, load: 0 };
    // A pool at rest must not keep the daemon (or a test) alive.
    worker.unref();
    worker.on('message', (reply: AnalysisReply) => {
      if (reply.type !== 'written') this.closeFollowed(reply.id);
      const stream = this.streams.get(reply.id);
      if (stream) {
        stream.answer(reply);
        return;
      }
      const job = this.running.get(reply.id);
      if (!job || reply.type === 'written') return;
      this.running.delete(reply.id);
      this.unplace(reply.id);
      if (reply.type === 'failed') job.reject(replyError(reply.error));
      else job.resolve(reply.analysis);
      this.dispatch();
    });
    const lost = (err: Error): void => {
      if (!this.workers.includes(slot)) return;
      this.forgetWorker(slot, err);
      this.dispatch();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`layer analysis worker exited with code ${code}`)));
    this.workers.push(slot);
    return slot;
  }

  /** A cancelled job still queued is dropped; a running one is stopped in the worker. */
  private cancel(job: Job, reason: Error): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) this.queue.splice(queued, 1);
    else if (this.running.delete(job.id)) {
      this.post({ type: 'cancel', id: job.id });
      // The worker's answer to the cancel still closes a followed file's descriptor (closeFollowed).
      this.unplace(job.id);
    } else return;
    job.reject(reason);
    this.dispatch();
  }

  /** The worker no longer reads this followed file (it answered, or it is gone). */
  private closeFollowed(id: number): void {
    const source = this.reading.get(id);
    if (source === undefined) return;
    this.reading.delete(id);
    source.state = 'closed';
    closeSync(source.fd);
  }

  /** The worker of `slot` is gone, or going: what it ran is refused with `err`. */
  private forgetWorker(slot: WorkerSlot, err: Error): Worker {
    this.workers.splice(this.workers.indexOf(slot), 1);
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const ids = [...this.placed].filter(([, s]) => s === slot).map(([id]) => id);
    for (const id of ids) {
      this.placed.delete(id);
      this.closeFollowed(id);
      const job = this.running.get(id);
      if (job) {
        this.running.delete(id);
        job.reject(err);
      }
      const stream = this.streams.get(id);
      if (stream) {
        this.streams.delete(id);
        stream.lost(err);
      }
    }
    return slot.worker;
  }

  private async stopWorkers(err = new Error('layer analysis worker stopped')): Promise<void> {
    await Promise.all([...this.workers].map((slot) => this.forgetWorker(slot, err).terminate()));
  }
}

function replyError(error: { message: string; invalidArgument: boolean }): Error {
  return error.invalidArgument ? new InvalidArgumentError(error.message) : new Error(error.message);
}

/** A worker thread of the pool, and how many jobs and streams it has. */
interface WorkerSlot {
  worker: Worker;
  load: number;
}

/** A followed layer: what the worker still needs to hear of its file. */
export interface FollowedLayer {
  /** `bytes` of the file are written now. */
  grow(bytes: number): void;
  /** The file will have `size` bytes in all (some may still be on their way to it); resolves the analysis. */
  end(size: number): Promise<LayerAnalysis>;
  /** Stops the analysis: the file will not be written whole. */
  abort(): void;
}

/** More of a followed file is told of by this much at least (or at its end): one message per write would be thousands. */
const GROW_STEP_BYTES = 1024 * 1024;

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
 * A layer's analysis that reads its blob as `writer` stores it, on the pool's worker thread, when
 * the store has files, the layer (of `size` bytes) is not small and the pool has room; undefined
 * otherwise (then it is analysed once stored: analyzeStoredLayer). A load's layers come one after another in its archive:
 * each is analysed while it is read and while the next ones are, up to the pool's `parallel`.
 */
export function followLayerWrite(writer: BlobWriter, size: number, limits: ExpansionLimits, signal?: AbortSignal): FollowedLayer | undefined {
  // A busy pool would hold the file open while it waits: then the layer is analysed once stored.
  if (size < WORKER_FROM_BYTES || !writer.follow || !shared.idle) return undefined;
  let layer: FollowedLayer | undefined;
  const { file, written } = writer.follow((bytes) => layer?.grow(bytes));
  layer = shared.follow(file, written, limits, signal);
  return layer;
}

/**
 * An analysis for a layer of `size` bytes that a pull streams as it downloads it: on the pool's
 * worker thread unless the layer is small, so that inflating and hashing many layers at once
 * leaves the main thread to the network and the store.
 */
export function openLayerAnalysis(limits: ExpansionLimits, size: number): LayerStreamAnalysis {
  return size >= WORKER_FROM_BYTES ? shared.open(limits) : new LayerAnalyzer(limits);
}
