// Disk usage (`docker system df -v`'s images) and what `docker image prune [-a]` would remove, without removing it.
import { bytes, imageHref, refOf, shortId, useApi, type DiskUsagePage, type PruneReport } from '../api';

export function DiskView() {
  const usage = useApi<DiskUsagePage>('/disk-usage', {}, []);
  if (usage.error) return <p class="error">{usage.error}</p>;
  if (!usage.data) return <p class="muted">Loading…</p>;
  const u = usage.data;
  return (
    <section>
      <h1>Disk usage</h1>
      <p class="score" data-testid="disk-totals">
        Images <strong>{u.images.length}</strong> · stored <strong>{bytes(u.layersSize)}</strong> · reclaimable <strong>{bytes(u.reclaimable)}</strong>
      </p>
      <div class="grid">
        <div>
          <table data-testid="disk-images">
            <thead>
              <tr>
                <th>Image</th>
                <th>ID</th>
                <th class="num">Size</th>
                <th class="num">Shared</th>
                <th class="num">Unique</th>
              </tr>
            </thead>
            <tbody>
              {u.images.map((img) => (
                <tr>
                  <td>
                    <a href={imageHref(refOf(img))}>{img.repoTags?.join(', ') || '<none>'}</a>
                  </td>
                  <td class="mono">{shortId(img.id)}</td>
                  <td class="num">{bytes(img.size)}</td>
                  <td class="num">{bytes(img.sharedSize)}</td>
                  <td class="num">{bytes(img.size - img.sharedSize)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div>
          <Prune title="docker image prune" report={u.prune} id="prune" />
          <Prune title="docker image prune -a" report={u.pruneAll} id="prune-all" />
        </div>
      </div>
    </section>
  );
}

function Prune({ title, report, id }: { title: string; report: PruneReport; id: string }) {
  const items = report.ImagesDeleted ?? [];
  return (
    <div class="prune" data-testid={id}>
      <h2>
        <code>{title}</code> would free <strong data-testid={`${id}-space`}>{bytes(report.SpaceReclaimed)}</strong>
      </h2>
      <p class="muted">A dry run: nothing is removed.</p>
      {items.length === 0 ? (
        <p>Nothing to remove.</p>
      ) : (
        <ul>
          {items.map((d) => (
            <li class="mono">{'Untagged' in d ? `untag ${d.Untagged}` : `delete ${shortId(d.Deleted)}`}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
