/**
 * The layer lines of a pull, reported the way Docker 28's containerd image store reports them
 * (daemon/containerd/progress.go): every 100 ms each tracked blob is looked at, and said to be
 * Downloading (with its offset), Download complete, or Already exists; a layer that is in place
 * is then Pull complete. When a manifest's content is all present, no layer line is shown (the
 * puller does not even track the layers whose chain is already in place).
 */
import { isLayerType } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import { progressMessage, shortId, type ProgressSink } from '../util/progress-message.js';
import { ProgressTicker } from '../util/progress-ticker.js';

export type JobState =
  | { kind: 'waiting' }
  | { kind: 'downloading'; offset: number; total: number }
  | { kind: 'fetched' }
  | { kind: 'existed' };

export class PullProgress extends ProgressTicker {
  private readonly jobs = new Map<string, Descriptor>();
  /** Layers shown as downloaded or present, waiting to be reported Pull complete. */
  private readonly finished: Descriptor[] = [];
  private readonly placed = new Set<string>();
  hideLayers = false;

  constructor(
    private readonly sink: ProgressSink,
    private readonly stateOf: (digest: string) => JobState,
    intervalMs?: number,
  ) {
    super(intervalMs);
  }

  /** Tracks a blob (Docker's showBlobProgress: layers and other large blobs, not JSON documents). */
  add(desc: Descriptor): void {
    if (!this.jobs.has(desc.digest)) this.jobs.set(desc.digest, desc);
  }

  /** A layer is in place (Docker: its snapshot is committed). */
  placedLayer(digest: string): void {
    this.placed.add(digest);
  }

  override update(): void {
    for (const [digest, desc] of this.jobs) {
      if (this.hideLayers) {
        this.jobs.delete(digest);
        continue;
      }
      const state = this.stateOf(digest);
      if (state.kind === 'downloading') {
        if (state.offset === 0) continue;
        this.sink(progressMessage({ id: shortId(digest), action: 'Downloading', current: state.offset, total: state.total }));
      } else if (state.kind === 'fetched' || state.kind === 'existed') {
        const action = state.kind === 'fetched' ? 'Download complete' : 'Already exists';
        this.sink(progressMessage({ id: shortId(digest), action, hideCounts: true }));
        if (isLayerType(desc.mediaType)) this.finished.push(desc);
        this.jobs.delete(digest);
      }
    }
    const still: Descriptor[] = [];
    for (const desc of this.finished) {
      if (this.placed.has(desc.digest)) {
        this.sink(progressMessage({ id: shortId(desc.digest), action: 'Pull complete', hideCounts: true }));
      } else {
        still.push(desc);
      }
    }
    this.finished.splice(0, this.finished.length, ...still);
  }
}
