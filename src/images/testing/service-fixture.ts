/** Test helpers: an ImageService on a temp store, with images loaded from OCI layouts built in memory. */
import { SqliteMetadataStore } from '../../metadata/sqlite-metadata-store.js';
import type { Descriptor } from '../../oci/types.js';
import { buildTar, chunked, tempStore, type TarEntrySpec } from '../../archive/testing/archive-builder.js';
import { OCI_LAYOUT, indexJson } from '../../archive/testing/image-builder.js';
import {
  buildImage,
  buildIndex,
  imageEntries,
  indexEntries,
  named,
  type BuiltImage,
  type BuiltIndex,
} from '../../archive/testing/sample-images.js';
import { ImageService } from '../image-service.js';

export interface ServiceFixture {
  images: ImageService;
  content: Awaited<ReturnType<typeof tempStore>>['store'];
  cleanup: () => Promise<void>;
}

export async function newService(): Promise<ServiceFixture> {
  const { store, cleanup } = await tempStore();
  const metadata = new SqliteMetadataStore(':memory:');
  return {
    images: new ImageService(store, metadata),
    content: store,
    cleanup: async () => {
      await metadata.close();
      cleanup();
    },
  };
}

/** Loads an OCI layout made of `blobs` whose index.json lists `targets`. */
export async function loadLayout(images: ImageService, blobs: TarEntrySpec[], targets: Descriptor[]): Promise<void> {
  const tar = await buildTar([OCI_LAYOUT, ...blobs, indexJson(targets)]);
  await images.load(chunked(tar));
}

export interface SampleService extends ServiceFixture {
  app: BuiltImage;
  multi: BuiltIndex;
  partial: BuiltIndex;
}

/**
 * A service holding `app` (linux/amd64) under each of `appNames`, `multi:1` (an index of amd64,
 * arm64/v8 and an attestation) and `partial:1` (the same shape, its arm64 image absent).
 */
export async function sampleService(appNames: string[]): Promise<SampleService> {
  const fx = await newService();
  const app = await buildImage({ architecture: 'amd64', os: 'linux' }, 'app');
  const multi = await buildIndex('multi');
  const partial = await buildIndex('partial');
  await loadLayout(fx.images, imageEntries(app), appNames.map((name) => named(app.manifest.desc, name)));
  await loadLayout(fx.images, indexEntries(multi), [named(multi.index.desc, 'docker.io/library/multi:1')]);
  await loadLayout(fx.images, indexEntries(partial, { omitArm64: true }), [named(partial.index.desc, 'docker.io/library/partial:1')]);
  return { ...fx, app, multi, partial };
}
