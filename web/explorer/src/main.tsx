// Lading's explorer: a single page over ladingd's store. Routes live in the hash, so any view can be linked.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import { ActivityView } from './views/activity';
import { CompareView } from './views/compare';
import { DiskView } from './views/disk';
import { ImageView } from './views/image';
import { ImagesView } from './views/images';

export interface Route {
  parts: string[];
  query: URLSearchParams;
}

function currentRoute(): Route {
  const hash = location.hash.replace(/^#\/?/, '');
  const q = hash.indexOf('?');
  const path = q < 0 ? hash : hash.slice(0, q);
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(q < 0 ? '' : hash.slice(q + 1)) };
}

function App() {
  const [route, setRoute] = useState(currentRoute());
  useEffect(() => {
    const on = () => setRoute(currentRoute());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  const [section] = route.parts;
  let view;
  if (section === 'image' && route.parts.length >= 3) view = <ImageView tab={route.parts[1]!} imageRef={route.parts.slice(2).join('/')} platform={route.query.get('platform') ?? ''} query={route.query} />;
  else if (section === 'compare') view = <CompareView query={route.query} />;
  else if (section === 'disk') view = <DiskView />;
  else if (section === 'activity') view = <ActivityView />;
  else view = <ImagesView query={route.query} />;
  const nav = (href: string, label: string, active: boolean) => (
    <a href={href} class={active ? 'active' : ''} data-testid={`nav-${label.toLowerCase().replace(/\s+/g, '-')}`}>
      {label}
    </a>
  );
  return (
    <>
      <header>
        <span class="brand">Lading explorer</span>
        <nav>
          {nav('#/images', 'Images', section === undefined || section === 'images' || section === 'image')}
          {nav('#/compare', 'Compare', section === 'compare')}
          {nav('#/disk', 'Disk usage', section === 'disk')}
          {nav('#/activity', 'Activity', section === 'activity')}
        </nav>
      </header>
      <main>{view}</main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
