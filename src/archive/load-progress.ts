/**
 * `docker load`'s layer lines when not quiet, as Docker 20.10's graphdriver store sends them
 * (image/tarexport/load.go: a progress.Reader per layer, "Loading layer", current/total). Lading
 * reads the archive as it arrives, so a layer's line moves while its bytes stream from the client:
 * a multi-GB load shows where it is. Lines are written on the 100 ms tick of a pull, plus each
 * layer's full bar when its last byte is read, as the progress.Reader writes it at EOF.
 */
import { progressMessage, shortId, type ProgressSink } from '../util/progress-message.js';
import { ProgressTicker } from '../util/progress-ticker.js';

interface LayerRead {
  id: string;
  current: number;
  total: number;
  shown: number;
}

/** What the archive reader tells of the layers it reads (see readArchive). */
export interface LayerReadProgress {
  /** A layer entry of `total` bytes starts at `path` (its first `current` bytes already read). */
  layerStarted(path: string, total: number, current: number): void;
  layerRead(path: string, bytes: number): void;
  layerEnded(path: string): void;
}

export class LoadProgress extends ProgressTicker implements LayerReadProgress {
  private readonly reading = new Map<string, LayerRead>();

  constructor(
    private readonly sink: ProgressSink,
    intervalMs?: number,
  ) {
    super(intervalMs);
  }

  layerStarted(path: string, total: number, current: number): void {
    const layer = { id: layerId(path), current, total, shown: -1 };
    this.reading.set(path, layer);
    // The first line goes out at once: it is what starts the answer (see the load route).
    this.show(layer);
    this.start();
  }

  layerRead(path: string, bytes: number): void {
    const layer = this.reading.get(path);
    if (layer) layer.current += bytes;
  }

  layerEnded(path: string): void {
    const layer = this.reading.get(path);
    if (!layer) return;
    this.reading.delete(path);
    layer.current = Math.max(layer.current, layer.total);
    this.show(layer);
  }

  override update(): void {
    for (const layer of this.reading.values()) {
      if (layer.current !== layer.shown) this.show(layer);
    }
  }

  private show(layer: LayerRead): void {
    layer.shown = layer.current;
    this.sink(progressMessage({ id: layer.id, action: 'Loading layer', current: layer.current, total: layer.total }));
  }
}

/**
 * Docker 20.10 names a layer by its diff ID, known only once the layer is read. Here it is the
 * blob's digest in an OCI layout (`blobs/sha256/<hex>`; Docker 25+ writes uncompressed layers
 * there, whose digest is their diff ID), or the legacy layer directory (`<v1 id>/layer.tar`).
 */
function layerId(path: string): string {
  const parts = path.split('/');
  if (parts.length >= 3 && parts[0] === 'blobs') return shortId(parts.at(-1)!);
  return shortId(parts.at(-2) ?? path);
}
