import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { efficiency, listDirectory, mergeLayers } from './file-tree.js';
import type { LayerFile } from './layer-files.js';

const f = (path: string, size = 1): LayerFile => ({ path, kind: 'file', size, mode: 0o644 });
const d = (path: string): LayerFile => ({ path, kind: 'dir', size: 0, mode: 0o755 });
const wh = (path: string): LayerFile => ({ path, kind: 'whiteout', size: 0, mode: 0 });
const opq = (path: string): LayerFile => ({ path, kind: 'opaque', size: 0, mode: 0 });

describe('file tree', () => {
  it('an opaque directory hides what the layers below put in it; the listing shows what went', () => {
    const tree = mergeLayers([[d('var'), f('var/a', 10), f('var/b', 20), f('keep', 5)], [opq('var'), f('var/c', 30)]]);
    assert.deepEqual(listDirectory(tree, 'var')!.map((e) => [e.name, e.size, e.marker]), [
      ['a', 10, 'removed'],
      ['b', 20, 'removed'],
      ['c', 30, 'added'],
    ]);
    assert.deepEqual(listDirectory(tree, '')!.map((e) => [e.name, e.size, e.changedBelow ?? false]), [
      ['keep', 5, false],
      ['var', 30, true],
    ]);
  });

  it('a path can change type; a removed path can come back in a later layer', () => {
    const layers = [[f('x', 3), d('y'), f('y/z', 4)], [wh('y'), d('x'), f('x/inner', 2)], [f('y', 9)]];
    assert.deepEqual(listDirectory(mergeLayers(layers, 1), '')!.map((e) => [e.name, e.kind, e.marker]), [
      ['x', 'dir', 'changed'],
      ['y', 'dir', 'removed'],
    ]);
    assert.deepEqual(listDirectory(mergeLayers(layers), '')!.map((e) => [e.name, e.kind, e.size, e.marker]), [
      ['x', 'dir', 2, undefined],
      ['y', 'file', 9, 'added'],
    ]);
    assert.equal(listDirectory(mergeLayers(layers), 'nowhere'), undefined);
  });

  it('efficiency: a file written three times wastes every size; an image without repeats scores 1', () => {
    const e = efficiency([[f('a', 100), f('b', 1)], [f('a', 50)], [f('a', 10)]]);
    assert.deepEqual(e.inefficiencies, [{ path: 'a', cumulativeSize: 160, layers: [0, 1, 2], removed: false }]);
    assert.equal(e.wastedBytes, 160);
    assert.equal(e.score, (10 + 1) / (160 + 1));
    assert.equal(efficiency([[f('a', 1)], [f('b', 2)]]).score, 1);
    assert.equal(efficiency([]).score, 1);
  });
});
