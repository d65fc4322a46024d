// A tiny history-API router. `matchRoute` is pure (tested); `startRouter` wires it to the page.

export type Route =
  | { name: 'home' }
  | { name: 'shop'; code: string }
  // The owner's weekly self-check, and the rectification of one hazard (its full id).
  | { name: 'check'; code: string }
  | { name: 'rectify'; code: string; hazard: string }
  | { name: 'login'; role: LoginRole | null; shop: string | null }
  // The grid worker's and the office's screens route within their own lazily loaded modules:
  // `rest` is the path after `/grid` or `/office` ('' or '/...'), with the query string.
  | { name: 'grid'; rest: string }
  | { name: 'office'; rest: string }
  | { name: 'notFound'; path: string };

export type LoginRole = 'owner' | 'grid' | 'office';

/** Shop codes as printed in the QR codes: letters, digits, '-' and '_' (e.g. S0001). */
const SHOP_CODE = /^[A-Za-z0-9_-]{1,32}$/;

function decode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null; // malformed %-escape
  }
}

/** A shop code as a link, a QR reader or a keyboard hands it over: decoded already, blanks around it dropped
 *  (`/s/S0001%20` is S0001). Case is kept: the registry may hold lower-case codes (see `codeCandidates`). */
export function cleanCode(raw: string): string {
  return raw.trim();
}

/** The codes to try for a typed or scanned code, in order: as given, then upper case (registries spell codes
 *  S0001, and a code typed on a phone keyboard or a lower-cased link comes as s0001). */
export function codeCandidates(raw: string): string[] {
  const code = cleanCode(raw);
  const upper = code.toUpperCase();
  return upper === code ? [code] : [code, upper];
}

function loginRole(value: string | null): LoginRole | null {
  return value === 'owner' || value === 'grid' || value === 'office' ? value : null;
}

/** Match a path (optionally with ?query) to a route. Trailing slashes are ignored. */
export function matchRoute(pathAndQuery: string): Route {
  const queryAt = pathAndQuery.indexOf('?');
  const path = queryAt === -1 ? pathAndQuery : pathAndQuery.slice(0, queryAt);
  const query = new URLSearchParams(queryAt === -1 ? '' : pathAndQuery.slice(queryAt + 1));
  const parts = path.split('/').filter((p) => p !== '');

  if (parts.length === 0) return { name: 'home' };
  if (parts[0] === 'grid' || parts[0] === 'office') {
    const rest = path.replace(/^\/(grid|office)/, '').replace(/\/+$/, '');
    return { name: parts[0], rest: rest + (queryAt === -1 ? '' : pathAndQuery.slice(queryAt)) };
  }
  if (parts[0] === 's' && parts.length >= 2 && parts.length <= 4) {
    const decoded = decode(parts[1] ?? '');
    const code = decoded === null ? null : cleanCode(decoded);
    if (code !== null && SHOP_CODE.test(code)) {
      if (parts.length === 2) return { name: 'shop', code };
      if (parts.length === 3 && parts[2] === 'check') return { name: 'check', code };
      const hazard = decode(parts[3] ?? '');
      if (parts.length === 4 && parts[2] === 'rectify' && hazard !== null && hazard.startsWith(`${code}:hazard:`)) {
        return { name: 'rectify', code, hazard };
      }
    }
  }
  if (parts.length === 1 && parts[0] === 'login') {
    const given = query.get('shop');
    const shop = given === null ? null : cleanCode(given);
    return {
      name: 'login',
      role: loginRole(query.get('role')),
      shop: shop !== null && SHOP_CODE.test(shop) ? shop : null,
    };
  }
  return { name: 'notFound', path };
}

export function shopPath(code: string): string {
  return `/s/${encodeURIComponent(code)}`;
}

export function checkPath(code: string): string {
  return `${shopPath(code)}/check`;
}

export function rectifyPath(code: string, hazard: string): string {
  return `${shopPath(code)}/rectify/${encodeURIComponent(hazard)}`;
}

export function loginPath(role: LoginRole, shop?: string): string {
  const query = new URLSearchParams({ role });
  if (shop) query.set('shop', shop);
  return `/login?${query.toString()}`;
}

type Render = (route: Route) => void;

let render: Render | null = null;

function currentRoute(): Route {
  return matchRoute(location.pathname + location.search);
}

/** Dispatched on window before a screen is replaced: forms save their drafts now (see drafts.ts). */
export const LEAVING_EVENT = 'mashang:leaving';

function leaving(): void {
  window.dispatchEvent(new Event(LEAVING_EVENT));
}

export function navigate(to: string, replace = false): void {
  leaving();
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  render?.(currentRoute());
  window.scrollTo(0, 0);
}

/** Re-render the current route (e.g. after a language switch). */
export function refresh(): void {
  leaving();
  render?.(currentRoute());
}

/** Take over same-origin link clicks and back/forward; render the current route once. */
export function startRouter(onRoute: Render): void {
  render = onRoute;
  window.addEventListener('popstate', refresh);
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const target = event.target instanceof Element ? event.target.closest('a') : null;
    if (!target || target.target || target.hasAttribute('download')) return;
    const url = new URL(target.href, location.href);
    if (url.origin !== location.origin) return;
    // The server's own paths are real page loads, never app routes.
    if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/sync/')) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
  refresh();
}
