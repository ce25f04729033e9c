// The attestations of each platform: a searchable SBOM package list, provenance, the raw statement on demand.
import { useState } from 'preact/hooks';
import { bytes, getJson, shortId, useApi, type PlatformAttestations } from '../api';

export function SupplyChainView({ imageRef }: { imageRef: string }) {
  const chain = useApi<PlatformAttestations[]>('/image/supply-chain', { ref: imageRef }, [imageRef]);
  const [search, setSearch] = useState('');
  if (chain.error) return <p class="error">{chain.error}</p>;
  if (!chain.data) return <p class="muted">Loading…</p>;
  if (chain.data.length === 0) return <p class="muted">This image is not an index: it carries no attestations.</p>;
  return (
    <div>
      <input type="search" placeholder="Search packages" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} data-testid="package-search" />
      {chain.data.map((p) => (
        <section class="platform" data-testid={`platform-${p.platform}`}>
          <h2>
            {p.platform} <span class="muted mono">{shortId(p.manifest)}</span>
          </h2>
          {p.statements.length === 0 && <p class="muted">No attestation for this platform.</p>}
          {p.statements.map((s) => (
            <StatementView imageRef={imageRef} s={s} search={search} />
          ))}
        </section>
      ))}
    </div>
  );
}

function StatementView({ imageRef, s, search }: { imageRef: string; s: PlatformAttestations['statements'][number]; search: string }) {
  const [raw, setRaw] = useState<string | undefined>();
  const words = search.toLowerCase().split(/\s+/).filter(Boolean);
  const packages = (s.packages ?? []).filter((p) => words.every((w) => [p.name, p.version, p.purl, p.license].join(' ').toLowerCase().includes(w)));
  const title = s.kind === 'spdx' ? 'SBOM (SPDX)' : s.kind === 'cyclonedx' ? 'SBOM (CycloneDX)' : s.kind === 'provenance' ? 'Provenance (SLSA)' : s.predicateType;
  return (
    <div class="statement">
      <h3>
        {title}{' '}
        <span class="muted">
          {s.predicateType} · {bytes(s.size)}
        </span>{' '}
        <button onClick={async () => setRaw(raw ? undefined : JSON.stringify(await getJson('/image/statement', { ref: imageRef, digest: s.digest }), null, 2))}>{raw ? 'Hide' : 'Raw statement'}</button>
      </h3>
      {s.packages && (
        <table data-testid="sbom-packages">
          <thead>
            <tr>
              <th>Package</th>
              <th>Version</th>
              <th>License</th>
              <th>purl</th>
            </tr>
          </thead>
          <tbody>
            {packages.map((p) => (
              <tr data-testid="sbom-package">
                <td>{p.name}</td>
                <td>{p.version ?? ''}</td>
                <td>{p.license ?? ''}</td>
                <td class="mono">{p.purl ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {s.packages && <p class="muted">{packages.length === s.packages.length ? `${s.packages.length} packages` : `${packages.length} of ${s.packages.length} packages`}</p>}
      {s.provenance && (
        <table class="kv" data-testid="provenance">
          <tbody>
            <tr>
              <th>Builder</th>
              <td>{s.provenance.builder ?? '—'}</td>
            </tr>
            <tr>
              <th>Build type</th>
              <td>{s.provenance.buildType ?? '—'}</td>
            </tr>
            <tr>
              <th>Source</th>
              <td>
                {s.provenance.source?.uri ?? '—'} {s.provenance.source?.entryPoint && <span class="muted">({s.provenance.source.entryPoint})</span>}
                {s.provenance.source?.digest && <div class="mono muted">{Object.entries(s.provenance.source.digest).map(([k, v]) => `${k}:${v}`).join(' ')}</div>}
              </td>
            </tr>
            <tr>
              <th>Materials</th>
              <td>
                {s.provenance.materials.length === 0 && '—'}
                {s.provenance.materials.map((m) => (
                  <div class="mono">{m.uri}</div>
                ))}
              </td>
            </tr>
          </tbody>
        </table>
      )}
      {raw && <pre class="raw">{raw}</pre>}
    </div>
  );
}
