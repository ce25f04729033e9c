// One image: its inspect document as a page, its graph, and the tabs for layers, files and supply chain.
import type { ComponentChildren } from 'preact';
import { bytes, imageHref, platformText, shortId, useApi, when, type ImageDocument, type LayersPage } from '../api';
import { FilesView } from './files';
import { SupplyChainView } from './supply-chain';

const TABS: Array<[string, string]> = [
  ['overview', 'Overview'],
  ['layers', 'Layers & history'],
  ['files', 'Files'],
  ['supply-chain', 'Supply chain'],
];

export function ImageView({ tab, imageRef, platform, query }: { tab: string; imageRef: string; platform: string; query: URLSearchParams }) {
  const doc = useApi<ImageDocument>('/image', { ref: imageRef, platform }, [imageRef, platform]);
  const platforms = (doc.data?.manifests ?? []).filter((m) => m.kind === 'image' && m.available).map((m) => platformText(m.imageData?.platform));
  const current = platform || (doc.data ? platformText({ os: doc.data.os, architecture: doc.data.architecture, variant: doc.data.variant }) : '');
  return (
    <section>
      <h1 data-testid="image-title">{imageRef}</h1>
      <div class="tabs">
        {TABS.map(([id, label]) => (
          <a href={imageHref(imageRef, id, platform)} class={tab === id ? 'active' : ''} data-testid={`tab-${id}`}>
            {label}
          </a>
        ))}
        {platforms.length > 1 && (
          <label class="platform-switch">
            Platform{' '}
            <select value={current} onChange={(e) => (location.hash = imageHref(imageRef, tab, (e.target as HTMLSelectElement).value))} data-testid="platform-switch">
              {platforms.map((p) => (
                <option value={p}>{p}</option>
              ))}
            </select>
          </label>
        )}
      </div>
      {doc.error && <p class="error">{doc.error}</p>}
      {doc.data && tab === 'overview' && <Overview doc={doc.data} />}
      {tab === 'layers' && <LayersView imageRef={imageRef} platform={platform} />}
      {tab === 'files' && <FilesView imageRef={imageRef} platform={platform} query={query} />}
      {tab === 'supply-chain' && <SupplyChainView imageRef={imageRef} />}
    </section>
  );
}

function Row({ name, children }: { name: string; children: ComponentChildren }) {
  return (
    <tr>
      <th>{name}</th>
      <td>{children}</td>
    </tr>
  );
}

const list = (values: string[] | null | undefined) => (values && values.length > 0 ? <code>{JSON.stringify(values)}</code> : <span class="muted">—</span>);
const keys = (o: Record<string, object> | undefined) => (o && Object.keys(o).length > 0 ? Object.keys(o).join(', ') : <span class="muted">—</span>);

function Overview({ doc }: { doc: ImageDocument }) {
  const c = doc.config ?? {};
  const annotations = doc.descriptor.annotations ?? {};
  return (
    <div class="grid">
      <div>
        <h2>Configuration</h2>
        <table class="kv" data-testid="config-table">
          <tbody>
            <Row name="Platform">{platformText({ os: doc.os, architecture: doc.architecture, variant: doc.variant })}</Row>
            <Row name="Entrypoint">{list(c.Entrypoint)}</Row>
            <Row name="Cmd">{list(c.Cmd)}</Row>
            <Row name="Env">{c.Env && c.Env.length > 0 ? c.Env.map((e) => <div class="mono">{e}</div>) : <span class="muted">—</span>}</Row>
            <Row name="Ports">{keys(c.ExposedPorts)}</Row>
            <Row name="Volumes">{keys(c.Volumes)}</Row>
            <Row name="User">{c.User || <span class="muted">root (default)</span>}</Row>
            <Row name="Working dir">{c.WorkingDir || <span class="muted">/</span>}</Row>
            <Row name="Stop signal">{c.StopSignal || <span class="muted">—</span>}</Row>
            <Row name="Created">{when(doc.created)}</Row>
            <Row name="Author">{doc.author || <span class="muted">—</span>}</Row>
          </tbody>
        </table>
        <h2>Labels and annotations</h2>
        <table class="kv">
          <tbody>
            {Object.entries(c.Labels ?? {}).map(([k, v]) => (
              <Row name={k}>{v}</Row>
            ))}
            {Object.entries(annotations).map(([k, v]) => (
              <Row name={`${k} (annotation)`}>{v}</Row>
            ))}
            {Object.keys(c.Labels ?? {}).length + Object.keys(annotations).length === 0 && <Row name="">none</Row>}
          </tbody>
        </table>
      </div>
      <div>
        <h2>Names and digests</h2>
        <table class="kv">
          <tbody>
            <Row name="ID">
              <code>{doc.id}</code>
            </Row>
            <Row name="Tags">{doc.repoTags.length > 0 ? doc.repoTags.join(', ') : <span class="badge dangling">dangling</span>}</Row>
            <Row name="Digests">{doc.repoDigests.length > 0 ? doc.repoDigests.map((d) => <div class="mono">{d}</div>) : <span class="muted">—</span>}</Row>
            <Row name="Pulled from / pushed to">{doc.identity ? doc.identity.pull.map((p) => <div>{p.repository}</div>) : <span class="muted">nowhere yet (loaded or imported)</span>}</Row>
            <Row name="Size">{bytes(doc.size)}</Row>
          </tbody>
        </table>
        <h2>Graph</h2>
        <Graph graph={doc.graph} chosen={doc.platformManifest} />
      </div>
    </div>
  );
}

function Graph({ graph, chosen }: { graph: ImageDocument['graph']; chosen?: string }) {
  const byDigest = new Map(graph.nodes.map((n) => [n.descriptor.digest, n]));
  const node = (digest: string, role: string, depth: number): ComponentChildren => {
    const n = byDigest.get(digest);
    if (!n || depth > 8) return null;
    const d = n.descriptor;
    const kind = role || (d.mediaType.includes('index') || d.mediaType.includes('list') ? 'index' : d.mediaType.includes('manifest') ? 'manifest' : 'blob');
    const manifest = byDigest.get(digest);
    const children = manifest?.children ?? [];
    return (
      <li class={digest === chosen ? 'chosen' : ''}>
        <span class={`kind ${kind}`}>{kind}</span> <span class="mono">{shortId(d.digest)}</span> <span class="muted">{d.mediaType}</span> {bytes(d.size)}
        {d.platform && <span class="badge">{platformText(d.platform)}</span>}
        {d.annotations?.['vnd.docker.reference.type'] && <span class="badge">{d.annotations['vnd.docker.reference.type']}</span>}
        {!n.present && <span class="badge">not here</span>}
        {children.length > 0 && (
          <ul>
            {children.map((c, i) => {
              const isManifest = kind === 'manifest';
              return node(c, isManifest ? (i === 0 ? 'config' : 'layer') : '', depth + 1);
            })}
          </ul>
        )}
      </li>
    );
  };
  return (
    <ul class="graph" data-testid="graph">
      {node(graph.root, '', 0)}
    </ul>
  );
}

function LayersView({ imageRef, platform }: { imageRef: string; platform: string }) {
  const layers = useApi<LayersPage>('/image/layers', { ref: imageRef, platform }, [imageRef, platform]);
  if (layers.error) return <p class="error">{layers.error}</p>;
  if (!layers.data) return <p class="muted">Loading…</p>;
  return (
    <div>
      <p class="muted">
        {layers.data.platform}, manifest <span class="mono">{shortId(layers.data.manifest)}</span>: history oldest first; each step that made a layer beside it.
      </p>
      <table data-testid="layers-table">
        <thead>
          <tr>
            <th>#</th>
            <th>Step</th>
            <th>Created</th>
            <th class="num">Compressed</th>
            <th class="num">Unpacked</th>
            <th>Layer</th>
          </tr>
        </thead>
        <tbody>
          {layers.data.rows.map((r) => (
            <tr class={r.step?.emptyLayer ? 'empty-step' : ''}>
              <td>{r.layer ? r.layer.index : ''}</td>
              <td class="mono wrap">
                {r.step?.createdBy ?? <span class="muted">(no history step)</span>}
                {r.step?.comment && <div class="muted">{r.step.comment}</div>}
              </td>
              <td>{when(r.step?.created)}</td>
              <td class="num">{r.layer ? bytes(r.layer.size) : <span class="muted">empty step</span>}</td>
              <td class="num">{r.layer ? bytes(r.layer.unpackedSize) : ''}</td>
              <td class="mono">
                {r.layer && (
                  <a href={imageHref(imageRef, 'files', platform) + `${platform ? '&' : '?'}layer=${r.layer.index}`} title={`${r.layer.mediaType}\n${r.layer.digest}\ndiff ID ${r.layer.diffId}`}>
                    {shortId(r.layer.digest)}
                  </a>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
