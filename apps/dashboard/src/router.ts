import { useEffect, useState } from 'react';

/** Hash routes (#/webhooks, #/webhooks/<id>, ...): the server serves one page and needs no fallback. */
export interface Route {
  parts: string[];
  params: URLSearchParams;
}

function parse(): Route {
  const raw = window.location.hash.replace(/^#\/?/, '');
  const [path, q = ''] = raw.split('?');
  return { parts: path.split('/').filter(Boolean).map(decodePart), params: new URLSearchParams(q) };
}

/** A malformed escape in a hand-typed hash (e.g. %E0) must not blank the page: keep the part as typed. */
function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const on = () => setRoute(parse());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function go(path: string): void {
  window.location.hash = path.startsWith('#') ? path : `#${path}`;
}
