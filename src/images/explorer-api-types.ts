/**
 * What the image service and the ImageExplorer answer, as the explorer's JSON API sends it
 * (src/explorer/explorer-routes.ts writes these objects as they are): one definition for the server
 * and for the page, whose own build (web/explorer, no Node) imports this module. Types only, and
 * imports only from modules that are types only, so the page's type-check and bundle take in no
 * server code. The Docker API shapes the same facts for a version in api/.
 */
import type { ContainerConfig, Descriptor, Platform, StatementSummary } from '../oci/types.js';

export type { ContainerConfig, Descriptor, Platform, StatementSummary };

// The list and inspect (image-list.ts, inspect.ts, image-service.ts).

/** One entry of the list before an API version shapes it (api/types/image.Summary). */
export interface ImageSummary {
  id: string;
  parentId: string;
  /** null where Docker leaves the list nil; the API layer decides what a version sees then. */
  repoTags: string[] | null;
  repoDigests: string[] | null;
  /** Unix seconds of the config's `created`; 0 without one. */
  created: number;
  size: number;
  /** -1 unless asked for. */
  sharedSize: number;
  labels: Record<string, string> | null;
  /** 0 (Lading runs no containers), or -1 when no platform of the image is available. */
  containers: number;
  descriptor: Descriptor;
  manifests?: ManifestSummary[];
  /** With the list's `identity` option: where the image came from, for its manifests' `ImageData.Identity`. */
  identity?: ImageIdentity;
}

/** One entry of `Manifests`: a manifest reachable from an image's target. */
export interface ManifestSummary {
  id: string;
  descriptor: Descriptor;
  available: boolean;
  contentSize: number;
  totalSize: number;
  kind: 'image' | 'attestation' | 'unknown';
  imageData?: { platform: Platform; unpackedSize: number };
  attestationFor?: string;
}

/** The config-derived top-level fields of an inspect document. */
export interface ConfigFields {
  author: string;
  architecture: string;
  variant: string;
  os: string;
  osVersion: string;
  comment: string;
  created?: string;
  rootFS: { type: string; layers: string[] };
  config?: ContainerConfig;
}

/** Everything an inspect document says, before the API shapes it for a version. */
export interface ImageInspect extends ConfigFields {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  parent: string;
  size: number;
  graphDriver: string;
  lastTagTime: string;
  descriptor: Descriptor;
  manifests?: ManifestSummary[];
  /** Where the image came from (API 1.53's `Identity`); absent when nothing is known. */
  identity?: ImageIdentity;
}

/**
 * Where an image came from (api/types/image.Identity, API 1.53): the repositories its target was
 * pulled from or pushed to. BuildKit builds (`Build`) and Sigstore verification (`Signature`) are
 * not Lading's, so neither is ever filled.
 */
export interface ImageIdentity {
  pull: Array<{ repository: string }>;
}

// Removal and prune (image-remove.ts, image-prune.ts).

/** One line of the answer: `{"Untagged":"alpine:latest"}` or `{"Deleted":"sha256:…"}`. */
export type DeleteResponse = { Untagged: string } | { Deleted: string };

export interface PruneReport {
  /** null when nothing was pruned, as Go writes a nil slice. */
  ImagesDeleted: DeleteResponse[] | null;
  SpaceReclaimed: number;
}

// Layer files, the merged tree and dive's efficiency (layer-files.ts, file-tree.ts), comparison (image-compare.ts).

export type FileKind = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export type Marker = 'added' | 'changed' | 'removed';

/** One row of a directory's listing in the merged tree. */
export interface TreeEntry {
  name: string;
  path: string;
  kind: FileKind;
  /** A file's bytes; a directory's: every file under it. */
  size: number;
  mode: number;
  link?: string;
  layer: number;
  /** What the top layer of the view did to this path. */
  marker?: Marker;
  /** A directory under which the top layer added, changed or removed something. */
  changedBelow?: boolean;
  /** Entries directly under a directory. */
  children?: number;
}

/** A path dive finds in more than one layer: overwritten or removed by a later one. */
export interface Inefficiency {
  path: string;
  /** Every size it had, in each layer where it appears (a whiteout counts what it removed). */
  cumulativeSize: number;
  /** The layers where it appears, oldest first. */
  layers: number[];
  /** The last layer removed it. */
  removed: boolean;
}

export interface Efficiency {
  /** minimum / discovered sizes over all paths, 1 for an image without bytes (dive's score). */
  score: number;
  /** The sum of the inefficient paths' cumulative sizes (dive's wastedBytes). */
  wastedBytes: number;
  /** Bytes of the layers above the first, as dive counts them: the files each layer holds. */
  userSizeBytes: number;
  wastedUserPercent: number;
  inefficiencies: Inefficiency[];
}

export interface FileChange {
  path: string;
  kind: string;
  /** Bytes on the side that has it (the new side for a change). */
  size: number;
  /** For a change: the old side's bytes. */
  oldSize?: number;
}

export interface ImageComparison {
  sharedLayers: Array<{ diffId: string; size: number }>;
  onlyA: Array<{ diffId: string; digest: string; size: number }>;
  onlyB: Array<{ diffId: string; digest: string; size: number }>;
  /** Files of B that A lacks. */
  added: FileChange[];
  removed: FileChange[];
  changed: FileChange[];
  config: Array<{ key: string; a?: string; b?: string }>;
}

// The explorer's own answers (image-explorer.ts, explorer/event-stream.ts), one per route.

export interface ListPage {
  total: number;
  offset: number;
  images: ImageSummary[];
}

/** One node of an image's graph: index, manifest, config or layer. */
export interface GraphNode {
  descriptor: Descriptor;
  present: boolean;
  children: string[];
}

/** `GET /image`: the inspect document (for the chosen platform), every manifest, the graph. */
export interface ImageDocument extends ImageInspect {
  graph: { root: string; nodes: GraphNode[] };
  /** The platform manifest the files and layers tabs show; absent when none is available. */
  platformManifest?: string;
}

export interface LayerRow {
  /** The history step, oldest first; absent for a layer its config has no step for. */
  step?: { createdBy: string; created?: string; comment?: string; emptyLayer: boolean };
  layer?: { index: number; digest: string; mediaType: string; size: number; diffId: string; unpackedSize?: number };
}

/** `GET /image/layers`. */
export interface LayersPage {
  platform: string;
  manifest: string;
  rows: LayerRow[];
}

/** `GET /image/tree`: one directory of the filesystem up to `layer` (of `layers`). */
export interface TreePage {
  layers: number;
  layer: number;
  entries: TreeEntry[];
}

/** `GET /image/efficiency`: `total` inefficient paths, the largest listed. */
export type EfficiencyPage = Efficiency & { total: number };

/** `GET /compare`: `a` and `b` the platform manifests compared. */
export type ComparisonPage = ImageComparison & { truncated: boolean; a: string; b: string };

export interface PlatformAttestations {
  platform: string;
  manifest: string;
  statements: Array<StatementSummary & { digest: string; size: number }>;
}

/** `GET /disk-usage`: `docker system df -v`'s images and what each prune would remove. */
export interface DiskUsagePage {
  layersSize: number;
  reclaimable: number;
  images: ImageSummary[];
  prune: PruneReport;
  pruneAll: PruneReport;
}

/** One server-sent event of `GET /events`. */
export interface ExplorerEvent {
  type: string;
  action: string;
  id: string;
  attributes: Record<string, string>;
  /** Milliseconds since the epoch. */
  time: number;
  timeNano: string;
}
