/** What we learnt of a layer blob while it streamed in: Docker reads these from its snapshotter. */
export interface LayerFacts {
  /** Layer blob digest. */
  digest: string;
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** Sum of the sizes of the regular files in the layer tar. */
  unpackedSize: number;
}

/** Layer facts by layer digest; a put replaces. Asynchronous, as every role (metadata-store.ts). */
export interface LayerFactsStore {
  putLayerFacts(facts: LayerFacts): Promise<void>;
  getLayerFacts(digest: string): Promise<LayerFacts | undefined>;
  deleteLayerFacts(digest: string): Promise<void>;
  /** Every layer's facts, in digest order, for consistency checks (`ladingd check`, the start-up check). */
  listLayerFacts(): Promise<LayerFacts[]>;
}
