/**
 * The blob lines of a push, as Docker 28's containerd image store writes them (pushProgress in
 * daemon/containerd/progress.go): every 100 ms each tracked blob is looked at and said to be
 * Waiting (not started), Pushing (with its offset, from 0), or, once done, Pushed, Layer already
 * exists (Already exists for blobs that are not layers), or Mounted from <repository>; a blob that
 * is done is not looked at again. Indexes, manifests and configs are not tracked (showBlobProgress).
 */
import { isIndexType, isLayerType, isManifestType, MediaType } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import { progressMessage, shortId, statusMessage, type ProgressSink } from '../util/progress-message.js';
import type { PushState } from '../registry/blob-push.js';
import { ProgressTicker } from '../util/progress-ticker.js';

/** Docker's showBlobProgress: layers and any other large blob, not the JSON documents. */
export function showBlobProgress(desc: Descriptor): boolean {
  if (isLayerType(desc.mediaType)) return true;
  const isConfig = desc.mediaType === MediaType.dockerConfig || desc.mediaType === MediaType.ociConfig;
  return !isIndexType(desc.mediaType) && !isManifestType(desc.mediaType) && !isConfig;
}

export class PushProgress extends ProgressTicker {
  private readonly jobs = new Map<string, Descriptor>();
  private readonly states = new Map<string, PushState>();
  /** Set when a second attempt pushes only part of the image: blobs not started are Unavailable. */
  notStartedUnavailable = false;

  constructor(
    private readonly sink: ProgressSink,
    intervalMs?: number,
  ) {
    super(intervalMs);
  }

  add(desc: Descriptor): void {
    if (showBlobProgress(desc) && !this.jobs.has(desc.digest)) this.jobs.set(desc.digest, desc);
  }

  /** The state of the blob's push; pushing states are updated in place as bytes go. */
  set(digest: string, state: PushState): void {
    this.states.set(digest, state);
  }

  get(digest: string): PushState | undefined {
    return this.states.get(digest);
  }

  override update(): void {
    for (const [digest, desc] of this.jobs) {
      const id = shortId(digest);
      const state = this.states.get(digest);
      if (!state || (state.kind === 'pushing' && state.offset === 0 && this.notStartedUnavailable)) {
        this.sink(statusMessage(id, this.notStartedUnavailable ? 'Unavailable' : 'Waiting'));
        continue;
      }
      if (state.kind === 'pushing') {
        this.sink(progressMessage({ id, action: 'Pushing', current: state.offset, total: state.total }));
        continue;
      }
      const text =
        state.kind === 'mounted' ? `Mounted from ${state.from}` :
        state.kind === 'exists' ? (isLayerType(desc.mediaType) ? 'Layer already exists' : 'Already exists') :
        'Pushed';
      this.sink(statusMessage(id, text));
      this.jobs.delete(digest);
    }
  }
}
