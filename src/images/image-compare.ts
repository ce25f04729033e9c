/**
 * What differs between two images (or two platforms of one): the layers they share and those only
 * one has (by diff ID, what the layer's files are), the files one has and the other not or not
 * alike, and the config fields that differ. Without file hashes in a listing, a file is `changed`
 * when its type, size, mode or link differ, or when layers that are not shared wrote it.
 */
import type { ImageConfig } from '../oci/types.js';
import type { FileChange, ImageComparison } from './explorer-api-types.js';
import { flattenFiles, type TreeNode } from './file-tree.js';

export interface CompareSide {
  layers: Array<{ digest: string; diffId: string; size: number }>;
  config: ImageConfig;
  root: TreeNode;
}

/** Files beyond this many of each kind are counted, not listed. */
export const MAX_LISTED_CHANGES = 5000;

export function compareImages(a: CompareSide, b: CompareSide): ImageComparison & { truncated: boolean } {
  const diffIdsA = new Set(a.layers.map((l) => l.diffId));
  const diffIdsB = new Set(b.layers.map((l) => l.diffId));
  const sharedLayers = a.layers.filter((l) => diffIdsB.has(l.diffId)).map((l) => ({ diffId: l.diffId, size: l.size }));
  const onlyA = a.layers.filter((l) => !diffIdsB.has(l.diffId));
  const onlyB = b.layers.filter((l) => !diffIdsA.has(l.diffId));
  const sharedIndexA = new Set(a.layers.flatMap((l, i) => (diffIdsB.has(l.diffId) ? [i] : [])));
  const sharedIndexB = new Set(b.layers.flatMap((l, i) => (diffIdsA.has(l.diffId) ? [i] : [])));

  const filesA = flattenFiles(a.root);
  const filesB = flattenFiles(b.root);
  const added: FileChange[] = [];
  const removed: FileChange[] = [];
  const changed: FileChange[] = [];
  for (const [p, nb] of filesB) {
    const na = filesA.get(p);
    if (!na) added.push({ path: p, kind: nb.kind, size: nb.size });
    else if (differs(na, nb, !sharedIndexA.has(na.layer) || !sharedIndexB.has(nb.layer))) {
      changed.push({ path: p, kind: nb.kind, size: nb.size, oldSize: na.size });
    }
  }
  for (const [p, na] of filesA) if (!filesB.has(p)) removed.push({ path: p, kind: na.kind, size: na.size });
  const byPath = (x: FileChange, y: FileChange): number => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0);
  const truncated = [added, removed, changed].some((list) => list.length > MAX_LISTED_CHANGES);
  return {
    sharedLayers,
    onlyA,
    onlyB,
    added: added.sort(byPath).slice(0, MAX_LISTED_CHANGES),
    removed: removed.sort(byPath).slice(0, MAX_LISTED_CHANGES),
    changed: changed.sort(byPath).slice(0, MAX_LISTED_CHANGES),
    config: compareConfigs(a.config, b.config),
    truncated,
  };
}

function differs(a: TreeNode, b: TreeNode, fromUnsharedLayers: boolean): boolean {
  return a.kind !== b.kind || a.size !== b.size || a.mode !== b.mode || a.link !== b.link || fromUnsharedLayers;
}

/** The fields a reader compares, each a line: platform, run settings, one per env variable and label. */
export function configLines(config: ImageConfig): Map<string, string> {
  const lines = new Map<string, string>();
  const c = config.config ?? {};
  const put = (key: string, value: unknown): void => {
    if (value === undefined || value === null || value === '') return;
    lines.set(key, typeof value === 'string' ? value : JSON.stringify(value));
  };
  put('Platform', [config.os, config.architecture, config.variant].filter(Boolean).join('/'));
  put('Entrypoint', c.Entrypoint);
  put('Cmd', c.Cmd);
  put('User', c.User);
  put('WorkingDir', c.WorkingDir);
  put('StopSignal', c.StopSignal);
  put('ExposedPorts', c.ExposedPorts ? Object.keys(c.ExposedPorts).sort() : undefined);
  put('Volumes', c.Volumes ? Object.keys(c.Volumes).sort() : undefined);
  for (const env of c.Env ?? []) {
    const eq = env.indexOf('=');
    put(`Env ${eq < 0 ? env : env.slice(0, eq)}`, eq < 0 ? '' : env.slice(eq + 1));
  }
  for (const [k, v] of Object.entries(c.Labels ?? {})) put(`Label ${k}`, v);
  return lines;
}

export function compareConfigs(a: ImageConfig, b: ImageConfig): ImageComparison['config'] {
  const la = configLines(a);
  const lb = configLines(b);
  const keys = [...new Set([...la.keys(), ...lb.keys()])].sort();
  return keys.flatMap((key) => {
    const va = la.get(key);
    const vb = lb.get(key);
    if (va === vb) return [];
    return [{ key, ...(va !== undefined ? { a: va } : {}), ...(vb !== undefined ? { b: vb } : {}) }];
  });
}
