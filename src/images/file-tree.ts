/**
 * The filesystem an image's layers make, as overlayfs stacks them: each layer's entries over the
 * ones below, a whiteout removing a path and everything under it, an opaque directory hiding what
 * the layers below put in it. Also dive's efficiency (its filetree.Efficiency and the analysis
 * around it): every path met in more than one layer wastes its cumulative size.
 */
import type { Efficiency, FileKind, Inefficiency, Marker, TreeEntry } from './explorer-api-types.js';
import type { LayerFile } from './layer-files.js';

export interface TreeNode {
  kind: FileKind;
  size: number;
  mode: number;
  link?: string;
  /** The layer (0 = the base) whose entry this is; implicit parents take the layer that made them. */
  layer: number;
  children?: Map<string, TreeNode>;
}

function newDir(layer: number): TreeNode {
  return { kind: 'dir', size: 0, mode: 0o755, layer, children: new Map() };
}

function split(p: string): string[] {
  return p === '' ? [] : p.split('/');
}

/** The node at `p`, or undefined. */
export function lookup(root: TreeNode, p: string): TreeNode | undefined {
  let node: TreeNode | undefined = root;
  for (const part of split(p)) {
    node = node.children?.get(part);
    if (!node) return undefined;
  }
  return node;
}

/** Every byte under a node, itself included (dive sums a removed directory so). */
export function subtreeSize(node: TreeNode): number {
  let total = node.kind === 'file' ? node.size : 0;
  if (node.children) for (const child of node.children.values()) total += subtreeSize(child);
  return total;
}

/** Puts one layer's entries over `root`. */
export function applyLayer(root: TreeNode, files: readonly LayerFile[], layer: number): void {
  for (const f of files) {
    const parts = split(f.path);
    const name = parts.pop();
    let dir = root;
    for (const part of parts) {
      let next = dir.children!.get(part);
      if (!next || next.kind !== 'dir') {
        next = newDir(layer);
        dir.children!.set(part, next);
      }
      dir = next;
    }
    if (f.kind === 'opaque') {
      const target = name === undefined ? root : dir.children!.get(name);
      if (target?.children) target.children = new Map();
      continue;
    }
    if (name === undefined) continue;
    if (f.kind === 'whiteout') {
      dir.children!.delete(name);
      continue;
    }
    const existing = dir.children!.get(name);
    if (f.kind === 'dir' && existing?.kind === 'dir') {
      // A directory entry again: its metadata changes, what is under it stays.
      existing.mode = f.mode;
      existing.layer = layer;
      continue;
    }
    dir.children!.set(name, {
      kind: f.kind,
      size: f.size,
      mode: f.mode,
      layer,
      ...(f.link ? { link: f.link } : {}),
      ...(f.kind === 'dir' ? { children: new Map() } : {}),
    });
  }
}

/** The tree of layers 0..upTo, with what layer `upTo` added, changed and removed (path → marker). */
export interface MergedTree {
  root: TreeNode;
  markers: Map<string, Marker>;
  /** What layer `upTo` removed, as it was below: shown in the listing with the `removed` marker. */
  removed: Map<string, TreeNode>;
}

export function mergeLayers(layers: readonly (readonly LayerFile[])[], upTo: number = layers.length - 1): MergedTree {
  const root = newDir(0);
  for (let i = 0; i < upTo; i++) applyLayer(root, layers[i] ?? [], i);
  const markers = new Map<string, Marker>();
  const removed = new Map<string, TreeNode>();
  const top = layers[upTo] ?? [];
  for (const f of top) {
    const before = lookup(root, f.path);
    if (f.kind === 'whiteout') {
      if (before) {
        markers.set(f.path, 'removed');
        removed.set(f.path, before);
      }
    } else if (f.kind === 'opaque') {
      const readded = new Set(top.filter((g) => g.kind !== 'whiteout' && g.kind !== 'opaque').map((g) => g.path));
      for (const [name, child] of before?.children ?? []) {
        const p = f.path === '' ? name : `${f.path}/${name}`;
        if (!readded.has(p)) {
          markers.set(p, 'removed');
          removed.set(p, child);
        }
      }
    } else if (!before) markers.set(f.path, 'added');
    else if (f.kind !== 'dir' || before.kind !== 'dir' || before.mode !== f.mode) markers.set(f.path, 'changed');
  }
  applyLayer(root, top, upTo);
  return { root, markers, removed };
}

/** The entries directly under `dir` in a merged tree, the removed ones included, by name. */
export function listDirectory(tree: MergedTree, dir: string): TreeEntry[] | undefined {
  const node = lookup(tree.root, dir);
  const prefix = dir === '' ? '' : `${dir}/`;
  const changedDirs = new Set<string>();
  for (const p of tree.markers.keys()) {
    const parts = split(p);
    for (let i = 1; i < parts.length; i++) changedDirs.add(parts.slice(0, i).join('/'));
  }
  const entries: TreeEntry[] = [];
  const row = (name: string, n: TreeNode, marker: Marker | undefined): TreeEntry => {
    const p = prefix + name;
    return {
      name,
      path: p,
      kind: n.kind,
      size: subtreeSize(n),
      mode: n.mode,
      layer: n.layer,
      ...(n.link ? { link: n.link } : {}),
      ...(marker ? { marker } : {}),
      ...(changedDirs.has(p) ? { changedBelow: true } : {}),
      ...(n.children ? { children: n.children.size } : {}),
    };
  };
  if (node?.children) for (const [name, child] of node.children) entries.push(row(name, child, tree.markers.get(prefix + name)));
  for (const [p, gone] of tree.removed) {
    if (p.startsWith(prefix) && !p.slice(prefix.length).includes('/') && p !== dir) entries.push(row(p.slice(prefix.length), gone, 'removed'));
  }
  if (!node && entries.length === 0) return undefined;
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Every path of a tree that is not a directory, with its node (for compare). */
export function flattenFiles(root: TreeNode, prefix = ''): Map<string, TreeNode> {
  const out = new Map<string, TreeNode>();
  const visit = (node: TreeNode, at: string): void => {
    for (const [name, child] of node.children ?? []) {
      const p = at === '' ? name : `${at}/${name}`;
      if (child.kind === 'dir') visit(child, p);
      else out.set(p, child);
    }
  };
  visit(root, prefix);
  return out;
}

/**
 * dive's Efficiency: for each layer's own tree, each leaf (a file, a link, an empty directory, a
 * whiteout) adds its size to its path's cumulative size and keeps the smallest; a whiteout's size
 * is that of a removed directory's contents (a removed file counts 0, as in dive). The score is the
 * sum of the smallest sizes over the sum of cumulative sizes.
 */
export function efficiency(layers: readonly (readonly LayerFile[])[]): Efficiency {
  const data = new Map<string, { cumulative: number; min: number; layers: number[]; removed: boolean }>();
  const stacked = newDir(0);
  let userSizeBytes = 0;
  layers.forEach((files, i) => {
    const own = newDir(i);
    applyLayer(own, files.filter((f) => f.kind !== 'whiteout' && f.kind !== 'opaque'), i);
    const leaves: Array<{ path: string; size: number; removed: boolean }> = [];
    collectLeaves(own, '', leaves);
    for (const f of files) {
      if (f.kind !== 'whiteout') continue;
      const before = lookup(stacked, f.path);
      leaves.push({ path: f.path, size: before?.kind === 'dir' ? subtreeSize(before) : 0, removed: true });
    }
    if (i > 0) for (const f of files) if (f.kind === 'file') userSizeBytes += f.size;
    for (const leaf of leaves) {
      const d = data.get(leaf.path) ?? { cumulative: 0, min: -1, layers: [], removed: false };
      d.cumulative += leaf.size;
      if (d.min < 0 || leaf.size < d.min) d.min = leaf.size;
      d.layers.push(i);
      d.removed = leaf.removed;
      data.set(leaf.path, d);
    }
    applyLayer(stacked, files, i);
  });
  let minimum = 0;
  let discovered = 0;
  const inefficiencies: Inefficiency[] = [];
  for (const [p, d] of data) {
    minimum += d.min;
    discovered += d.cumulative;
    if (d.layers.length >= 2) inefficiencies.push({ path: p, cumulativeSize: d.cumulative, layers: d.layers, removed: d.removed });
  }
  inefficiencies.sort((a, b) => b.cumulativeSize - a.cumulativeSize || (a.path < b.path ? -1 : 1));
  const wastedBytes = inefficiencies.reduce((n, x) => n + x.cumulativeSize, 0);
  return {
    score: discovered === 0 ? 1 : minimum / discovered,
    wastedBytes,
    userSizeBytes,
    wastedUserPercent: userSizeBytes === 0 ? 0 : wastedBytes / userSizeBytes,
    inefficiencies,
  };
}

function collectLeaves(node: TreeNode, at: string, out: Array<{ path: string; size: number; removed: boolean }>): void {
  for (const [name, child] of node.children ?? []) {
    const p = at === '' ? name : `${at}/${name}`;
    if (child.children && child.children.size > 0) collectLeaves(child, p, out);
    else out.push({ path: p, size: child.kind === 'file' ? child.size : 0, removed: false });
  }
}
