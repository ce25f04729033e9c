/**
 * TEMPORARY: the async metadata roles (the contract of the async conversion, under way on another
 * branch), spelled out so the PostgreSQL store is checked against them before they land. Replaced
 * by the real interfaces of src/metadata/*.ts when that branch is merged.
 */
import type { BlobEdge } from '../blob-graph.js';
import type { BlobSources } from '../blob-sources.js';
import type { ImageRecord } from '../image-records.js';
import type { LayerFacts } from '../layer-facts-store.js';

export interface ImageRecords {
  getImage(name: string): Promise<ImageRecord | undefined>;
  listImages(): Promise<ImageRecord[]>;
  imagesWithPrefix(prefix: string): Promise<ImageRecord[]>;
  imagesByTarget(digest: string): Promise<ImageRecord[]>;
  targetsByPrefix(hexPrefix: string, limit: number): Promise<string[]>;
  countTargets(): Promise<number>;
  putImage(record: ImageRecord): Promise<void>;
  deleteImage(name: string): Promise<boolean>;
  readonly generation: number;
}
export interface LayerFactsStore {
  putLayerFacts(facts: LayerFacts): Promise<void>;
  getLayerFacts(digest: string): Promise<LayerFacts | undefined>;
  deleteLayerFacts(digest: string): Promise<void>;
  listLayerFacts(): Promise<LayerFacts[]>;
}
export interface StoredTargetFacts {
  getTargetFacts(digests: readonly string[], key: string): Promise<Map<string, string>>;
  putTargetFacts(digest: string, key: string, json: string): Promise<void>;
  clearTargetFacts(): Promise<void>;
  readonly factsEpoch: number;
}
export interface BlobGraph {
  putBlobEdges(edges: readonly BlobEdge[]): Promise<void>;
  isBlobReachable(digest: string, detached?: ReadonlySet<string>): Promise<boolean>;
  reachableBlobs(detached?: ReadonlySet<string>): Promise<Set<string>>;
  blobAncestors(digest: string): Promise<string[]>;
  forgetBlob(digest: string): Promise<void>;
  blobParents(digest: string): Promise<string[]>;
  listBlobEdges(): Promise<BlobEdge[]>;
  deleteBlobEdges(parent: string): Promise<void>;
  readonly graphBuilt: boolean;
  markGraphBuilt(): Promise<void>;
}
export type MetadataRoles = ImageRecords & LayerFactsStore & BlobSources & BlobGraph & StoredTargetFacts;
export interface TransactionScope {
  transaction<T>(fn: (tx: MetadataTx) => Promise<T>): Promise<T>;
  removal<T>(fn: (tx: MetadataTx) => Promise<T>): Promise<T>;
}
export type MetadataTx = MetadataRoles & TransactionScope;
export interface MetadataStore extends MetadataRoles, TransactionScope {
  close(): Promise<void>;
}
