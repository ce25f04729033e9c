// Two images, or two platforms of one: layers shared and own, files added/removed/changed, config differences.
import { useState } from 'preact/hooks';
import { bytes, shortId, useApi, type ComparisonPage } from '../api';

export function CompareView({ query }: { query: URLSearchParams }) {
  const [form, setForm] = useState({ a: query.get('a') ?? '', platformA: query.get('platformA') ?? '', b: query.get('b') ?? '', platformB: query.get('platformB') ?? '' });
  const [asked, setAsked] = useState(form.a && form.b ? form : undefined);
  const result = useApi<ComparisonPage>(asked ? '/compare' : undefined, asked ?? {}, [JSON.stringify(asked)]);
  const field = (key: keyof typeof form, placeholder: string) => (
    <input placeholder={placeholder} value={form[key]} onInput={(e) => setForm({ ...form, [key]: (e.target as HTMLInputElement).value })} data-testid={`compare-${key}`} />
  );
  return (
    <section>
      <h1>Compare</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setAsked({ ...form });
          location.hash = `#/compare?${new URLSearchParams(form).toString()}`;
        }}
      >
        {field('a', 'image A (name or ID)')}
        {field('platformA', 'platform (e.g. linux/amd64)')}
        {field('b', 'image B')}
        {field('platformB', 'platform')}
        <button type="submit" data-testid="compare-go">
          Compare
        </button>
      </form>
      {asked && result.error && <p class="error">{result.error}</p>}
      {asked && result.data && <ComparisonView c={result.data} />}
    </section>
  );
}

function ComparisonView({ c }: { c: ComparisonPage }) {
  return (
    <div data-testid="comparison">
      <p class="muted">
        A = manifest <span class="mono">{shortId(c.a)}</span>, B = manifest <span class="mono">{shortId(c.b)}</span>
      </p>
      <div class="grid">
        <div>
          <h2>Layers</h2>
          <table data-testid="compare-layers">
            <tbody>
              {c.sharedLayers.map((l) => (
                <tr>
                  <td>
                    <span class="badge shared">shared</span>
                  </td>
                  <td class="mono">{shortId(l.diffId)}</td>
                  <td class="num">{bytes(l.size)}</td>
                </tr>
              ))}
              {c.onlyA.map((l) => (
                <tr>
                  <td>
                    <span class="badge only-a">only A</span>
                  </td>
                  <td class="mono">{shortId(l.digest)}</td>
                  <td class="num">{bytes(l.size)}</td>
                </tr>
              ))}
              {c.onlyB.map((l) => (
                <tr>
                  <td>
                    <span class="badge only-b">only B</span>
                  </td>
                  <td class="mono">{shortId(l.digest)}</td>
                  <td class="num">{bytes(l.size)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Configuration</h2>
          <table data-testid="compare-config">
            <thead>
              <tr>
                <th>Field</th>
                <th>A</th>
                <th>B</th>
              </tr>
            </thead>
            <tbody>
              {c.config.map((d) => (
                <tr>
                  <th>{d.key}</th>
                  <td class="mono wrap">{d.a ?? <span class="muted">—</span>}</td>
                  <td class="mono wrap">{d.b ?? <span class="muted">—</span>}</td>
                </tr>
              ))}
              {c.config.length === 0 && (
                <tr>
                  <td colSpan={3}>the same</td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
        <div>
          <h2>Files (B against A)</h2>
          <table class="tree" data-testid="compare-files">
            <tbody>
              {c.added.map((f) => (
                <tr class="entry added">
                  <td>
                    <span class="marker added">A</span>
                  </td>
                  <td class="mono">/{f.path}</td>
                  <td class="num">{bytes(f.size)}</td>
                </tr>
              ))}
              {c.changed.map((f) => (
                <tr class="entry changed">
                  <td>
                    <span class="marker changed">C</span>
                  </td>
                  <td class="mono">/{f.path}</td>
                  <td class="num">
                    {bytes(f.oldSize)} → {bytes(f.size)}
                  </td>
                </tr>
              ))}
              {c.removed.map((f) => (
                <tr class="entry removed">
                  <td>
                    <span class="marker removed">R</span>
                  </td>
                  <td class="mono">/{f.path}</td>
                  <td class="num">{bytes(f.size)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {c.truncated && <p class="muted">Only the first 5000 of each kind are listed.</p>}
        </div>
      </div>
    </div>
  );
}
