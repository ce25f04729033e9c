// The file tree up to a layer, with that layer's added/changed/removed markers, and dive's wasted space.
import { useState } from 'preact/hooks';
import { bytes, modeString, useApi, type EfficiencyPage, type TreePage } from '../api';

export function FilesView({ imageRef, platform, query }: { imageRef: string; platform: string; query: URLSearchParams }) {
  const [layer, setLayer] = useState<number | undefined>(query.has('layer') ? Number(query.get('layer')) : undefined);
  const [dir, setDir] = useState(query.get('dir') ?? '');
  const [changesOnly, setChangesOnly] = useState(false);
  const tree = useApi<TreePage>('/image/tree', { ref: imageRef, platform, layer, dir }, [imageRef, platform, layer, dir]);
  const eff = useApi<EfficiencyPage>('/image/efficiency', { ref: imageRef, platform, limit: 50 }, [imageRef, platform]);
  const parts = dir === '' ? [] : dir.split('/');
  const shown = (tree.data?.entries ?? []).filter((e) => !changesOnly || e.marker || e.changedBelow);
  return (
    <div class="grid files">
      <div>
        <div class="filters">
          <label>
            Filesystem up to layer{' '}
            <select value={tree.data?.layer ?? ''} onChange={(e) => setLayer(Number((e.target as HTMLSelectElement).value))} data-testid="layer-select">
              {Array.from({ length: tree.data?.layers ?? 0 }, (_, i) => (
                <option value={i}>
                  {i}
                  {i === (tree.data?.layers ?? 0) - 1 ? ' (top)' : ''}
                </option>
              ))}
            </select>
          </label>
          <label>
            <input type="checkbox" checked={changesOnly} onChange={(e) => setChangesOnly((e.target as HTMLInputElement).checked)} /> changes of this layer only
          </label>
          <span class="legend">
            <span class="marker added">A</span> added <span class="marker changed">C</span> changed <span class="marker removed">R</span> removed by this layer
          </span>
        </div>
        <div class="crumbs" data-testid="crumbs">
          <a onClick={() => setDir('')}>/</a>
          {parts.map((p, i) => (
            <>
              <a onClick={() => setDir(parts.slice(0, i + 1).join('/'))}>{p}</a>/
            </>
          ))}
        </div>
        {tree.error && <p class="error">{tree.error}</p>}
        <table class="tree" data-testid="file-tree">
          <thead>
            <tr>
              <th />
              <th>Mode</th>
              <th>Name</th>
              <th class="num">Size</th>
              <th class="num">Layer</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((e) => (
              <tr class={`entry ${e.marker ?? ''}`} data-testid="tree-entry" data-path={e.path}>
                <td>{e.marker ? <span class={`marker ${e.marker}`}>{e.marker[0]!.toUpperCase()}</span> : e.changedBelow ? <span class="marker below">•</span> : null}</td>
                <td class="mono">{modeString(e.kind, e.mode)}</td>
                <td class="mono">
                  {e.kind === 'dir' && e.marker !== 'removed' ? <a onClick={() => setDir(e.path)}>{e.name}/</a> : e.name}
                  {e.link && <span class="muted"> → {e.link}</span>}
                </td>
                <td class="num">{bytes(e.size)}</td>
                <td class="num">{e.layer}</td>
              </tr>
            ))}
            {tree.data && shown.length === 0 && (
              <tr>
                <td colSpan={5} class="muted">
                  empty
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <div>
        <h2>Wasted space</h2>
        {eff.error && <p class="error">{eff.error}</p>}
        {eff.data && (
          <div data-testid="efficiency">
            <p class="score">
              Efficiency <strong data-testid="efficiency-score">{(eff.data.score * 100).toFixed(2)} %</strong>
              <br />
              Wasted <strong data-testid="wasted-bytes">{bytes(eff.data.wastedBytes)}</strong>{' '}
              <span class="muted">
                ({eff.data.wastedUserPercent >= 10 ? `${eff.data.wastedUserPercent.toFixed(0)}×` : `${(eff.data.wastedUserPercent * 100).toFixed(1)} % of`} the bytes of the layers above the base)
              </span>
            </p>
            <p class="muted">As dive counts it: a path found in more than one layer, overwritten or removed by a later one, wastes every size it had.</p>
            <table data-testid="wasted-table">
              <thead>
                <tr>
                  <th class="num">Size</th>
                  <th>Path</th>
                  <th>Layers</th>
                </tr>
              </thead>
              <tbody>
                {eff.data.inefficiencies.map((x) => (
                  <tr data-testid="wasted-row">
                    <td class="num">{bytes(x.cumulativeSize)}</td>
                    <td class="mono">
                      <a
                        title="Show it in the tree, at the layer that last touched it"
                        onClick={() => {
                          setLayer(x.layers[x.layers.length - 1]);
                          setDir(x.path.includes('/') ? x.path.slice(0, x.path.lastIndexOf('/')) : '');
                        }}
                      >
                        /{x.path}
                      </a>{' '}
                      {x.removed && <span class="marker removed">removed</span>}
                    </td>
                    <td>{x.layers.join(', ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {eff.data.total > eff.data.inefficiencies.length && <p class="muted">and {eff.data.total - eff.data.inefficiencies.length} more</p>}
          </div>
        )}
      </div>
    </div>
  );
}
