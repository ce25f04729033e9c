import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { childrenOf, MAX_INDEX_DEPTH, walkImageGraph } from './image-graph-walk.js';
import { MediaType } from './media-types.js';
import type { Descriptor } from './types.js';

const desc = (mediaType: string, name: string): Descriptor => ({ mediaType, digest: `sha256:${name.padEnd(64, '0')}`, size: 1 });

/** Documents in memory: index digest -> children, manifest digest -> config and layers. */
function graph(children: Map<string, Descriptor[]>) {
  const reads: string[] = [];
  const reader = {
    readIndex: async (d: Descriptor) => (reads.push(d.digest), { manifests: children.get(d.digest) ?? [] }),
    readManifest: async (d: Descriptor) => {
      reads.push(d.digest);
      const [config, ...layers] = children.get(d.digest) ?? [];
      return config ? { config, layers } : undefined;
    },
  };
  return { reader, reads };
}

describe('walkImageGraph', () => {
  it('handles each digest once, parents first, however many times indexes list it', async () => {
    const config = desc(MediaType.ociConfig, 'c');
    const layer = desc(MediaType.ociLayerGzip, 'l');
    const manifest = desc(MediaType.ociManifest, 'm');
    const children = new Map<string, Descriptor[]>([[manifest.digest, [config, layer, layer]]]);
    let top = manifest;
    for (let i = 0; i < 7; i++) {
      const index = desc(MediaType.ociIndex, `i${i}`);
      children.set(index.digest, Array.from({ length: 50 }, () => top));
      top = index;
    }
    const { reader, reads } = graph(children);
    const handled: string[] = [];
    const seen = await walkImageGraph(top, async (d) => (handled.push(d.digest), childrenOf(reader, d)));
    assert.equal(handled.length, 10);
    assert.equal(new Set(handled).size, 10);
    assert.deepEqual(handled.slice(-3), [manifest.digest, config.digest, layer.digest]);
    assert.equal(reads.length, 8);
    assert.equal(seen.size, 10);
  });

  it(`enters indexes ${MAX_INDEX_DEPTH} levels below the root, and the manifest under the deepest`, async () => {
    const manifest = desc(MediaType.ociManifest, 'm');
    const children = new Map<string, Descriptor[]>();
    const chain = (levels: number): Descriptor => {
      let top = manifest;
      for (let i = 0; i < levels; i++) {
        const index = desc(MediaType.ociIndex, `${levels}x${i}`);
        children.set(index.digest, [top]);
        top = index;
      }
      return top;
    };
    const { reader } = graph(children);
    const deepest = await walkImageGraph(chain(MAX_INDEX_DEPTH + 1), (d) => childrenOf(reader, d));
    assert.ok(deepest.has(manifest.digest));
    const tooDeep = await walkImageGraph(chain(MAX_INDEX_DEPTH + 2), (d) => childrenOf(reader, d));
    assert.equal(tooDeep.has(manifest.digest), false);
    assert.equal(tooDeep.size, MAX_INDEX_DEPTH + 1);
  });

  it('a skipped descriptor is not marked seen: a later root still walks it', async () => {
    const manifest = desc(MediaType.ociManifest, 'm');
    const index = desc(MediaType.ociIndex, 'i');
    const { reader } = graph(new Map([[index.digest, [manifest]]]));
    const seen = await walkImageGraph([index, manifest], (d) => childrenOf(reader, d), {
      skip: (d, depth) => depth > 0 && d.digest === manifest.digest,
    });
    assert.deepEqual([...seen], [index.digest, manifest.digest]);
  });
});
