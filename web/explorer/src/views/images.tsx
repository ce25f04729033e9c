// The image list, as `docker images --tree` shows it: paged, searched and filtered by the daemon.
import { useState } from 'preact/hooks';
import { bytes, imageHref, platformText, refOf, shortId, useApi, when, type ImageSummary, type ListPage } from '../api';

const PAGE = 50;

export function ImagesView({ query }: { query: URLSearchParams }) {
  const [search, setSearch] = useState(query.get('search') ?? '');
  const [reference, setReference] = useState(query.get('reference') ?? '');
  const [label, setLabel] = useState(query.get('label') ?? '');
  const [dangling, setDangling] = useState(query.get('dangling') ?? '');
  const [offset, setOffset] = useState(0);
  const params = { search, reference, label, dangling, offset, limit: PAGE };
  const page = useApi<ListPage>('/images', params, [search, reference, label, dangling, offset]);
  const reset = (set: (v: string) => void) => (e: Event) => {
    set((e.target as HTMLInputElement).value);
    setOffset(0);
  };
  return (
    <section>
      <h1>Images</h1>
      <div class="filters">
        <input type="search" placeholder="Search names and IDs" value={search} onInput={reset(setSearch)} data-testid="image-search" />
        <input placeholder="reference (e.g. alpine:*)" value={reference} onInput={reset(setReference)} data-testid="filter-reference" />
        <input placeholder="label (key or key=value)" value={label} onInput={reset(setLabel)} data-testid="filter-label" />
        <select value={dangling} onChange={reset(setDangling)} data-testid="filter-dangling">
          <option value="">all images</option>
          <option value="true">dangling only</option>
          <option value="false">named only</option>
        </select>
      </div>
      {page.error && <p class="error">{page.error}</p>}
      {page.data && (
        <>
          <p class="muted" data-testid="image-count">
            {page.data.total} image{page.data.total === 1 ? '' : 's'}
            {page.data.total > PAGE && ` — ${offset + 1}-${Math.min(offset + PAGE, page.data.total)}`}
          </p>
          <table class="images">
            <thead>
              <tr>
                <th>Image</th>
                <th>ID</th>
                <th>Created</th>
                <th class="num">Content</th>
                <th class="num">Unpacked</th>
              </tr>
            </thead>
            <tbody>{page.data.images.map((img) => <ImageRows img={img} key={img.id} />)}</tbody>
          </table>
          <div class="pager">
            <button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
              Previous
            </button>
            <button disabled={offset + PAGE >= page.data.total} onClick={() => setOffset(offset + PAGE)}>
              Next
            </button>
          </div>
        </>
      )}
    </section>
  );
}

function ImageRows({ img }: { img: ImageSummary }) {
  const ref = refOf(img);
  const manifests = img.manifests ?? [];
  const images = manifests.filter((m) => m.kind === 'image');
  const content = manifests.reduce((n, m) => n + m.contentSize, 0);
  const unpacked = images.reduce((n, m) => n + (m.imageData?.unpackedSize ?? 0), 0);
  const names = img.repoTags && img.repoTags.length > 0 ? img.repoTags : null;
  return (
    <>
      <tr class="image-row" data-testid="image-row">
        <td>
          <a href={imageHref(ref)}>{names ? names.join(', ') : <span class="badge dangling">&lt;none&gt; dangling</span>}</a>
        </td>
        <td class="mono">{shortId(img.id)}</td>
        <td>{when(img.created)}</td>
        <td class="num">{bytes(content || img.size)}</td>
        <td class="num">{bytes(unpacked)}</td>
      </tr>
      {images.length > 1 || img.descriptor.mediaType.includes('index') || img.descriptor.mediaType.includes('list')
        ? manifests.map((m, i) => (
            <tr class="platform-row" key={m.id}>
              <td>
                <span class="tree">{i === manifests.length - 1 ? '└─' : '├─'}</span>{' '}
                {m.kind === 'image' ? (
                  <a href={imageHref(ref, 'overview', platformText(m.imageData?.platform))}>{platformText(m.imageData?.platform)}</a>
                ) : (
                  <span class="muted">{m.kind === 'attestation' ? `attestation for ${shortId(m.attestationFor ?? '')}` : 'unknown'}</span>
                )}
                {!m.available && <span class="badge">not here</span>}
              </td>
              <td class="mono">{shortId(m.id)}</td>
              <td />
              <td class="num">{bytes(m.contentSize)}</td>
              <td class="num">{m.imageData ? bytes(m.imageData.unpackedSize) : ''}</td>
            </tr>
          ))
        : null}
    </>
  );
}
