import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from 'react';

const listeners = new Set<() => void>();

/**
 * Where the console lives on its origin: '' at the root, '/console' under a path. The server
 * says so with the page's <base href>; inside the app, paths are the console's own ('/approvals').
 */
export const BASE = new URL(document.baseURI).pathname.replace(/\/$/, '');

export function navigate(to: string): void {
  window.history.pushState(null, '', `${BASE}${to}`);
  for (const l of listeners) l();
}

/** The current path and query; re-renders on navigation and on back/forward. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const update = (): void => setTick((t) => t + 1);
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  const full = window.location.pathname;
  const path = BASE !== '' && full.startsWith(BASE) ? full.slice(BASE.length) || '/' : full;
  return { path, query: new URLSearchParams(window.location.search) };
}

/** An ordinary link that navigates inside the console without reloading it. */
export function Link(props: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>): void => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(props.href);
  };
  return <a {...props} href={`${BASE}${props.href}`} onClick={onClick} />;
}
