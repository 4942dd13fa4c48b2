import { useEffect, useState } from 'preact/hooks';

/** Where the console is: the part of the address after #, so the server serves one page for all. */
export type Route = { view: 'fleet' } | { view: 'phone'; phoneId: string } | { view: 'jobs'; requestId?: string };

/** A part of the address as written, when it is not valid percent-encoding. */
function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decoded);
  if (parts[0] === 'phones' && parts[1]) return { view: 'phone', phoneId: parts[1] };
  if (parts[0] === 'jobs') return { view: 'jobs', requestId: parts[1] };
  return { view: 'fleet' };
}

export const hrefOf = (r: Route): string =>
  r.view === 'phone' ? `#/phones/${encodeURIComponent(r.phoneId)}` : r.view === 'jobs' ? `#/jobs${r.requestId ? `/${encodeURIComponent(r.requestId)}` : ''}` : '#/';

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}
