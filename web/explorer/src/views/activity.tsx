// Live events (load, pull, push, tag, delete…) as they happen, over server-sent events.
import { useEffect, useState } from 'preact/hooks';
import { API, shortId, type ExplorerEvent } from '../api';

export function ActivityView() {
  const [events, setEvents] = useState<ExplorerEvent[]>([]);
  const [state, setState] = useState('connecting');
  useEffect(() => {
    const source = new EventSource(`${API}/events`);
    source.onopen = () => setState('live');
    source.onerror = () => setState('reconnecting');
    source.onmessage = (m) => {
      const e = JSON.parse(m.data as string) as ExplorerEvent;
      setEvents((list) => (list.some((x) => x.timeNano === e.timeNano) ? list : [e, ...list].slice(0, 500)));
    };
    return () => source.close();
  }, []);
  return (
    <section>
      <h1>
        Activity <span class={`badge ${state}`} data-testid="activity-state">{state}</span>
      </h1>
      <table data-testid="events">
        <thead>
          <tr>
            <th>Time</th>
            <th>Action</th>
            <th>Image</th>
            <th>ID</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr data-testid="event" data-action={e.action}>
              <td>{new Date(e.time).toISOString().replace('T', ' ').replace('Z', '')}</td>
              <td>
                <span class={`badge action-${e.action}`}>{e.action}</span>
              </td>
              <td>{e.attributes.name ?? ''}</td>
              <td class="mono">{shortId(e.id)}</td>
            </tr>
          ))}
          {events.length === 0 && (
            <tr>
              <td colSpan={4} class="muted">
                No event yet: load, pull, push, tag or remove an image.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
