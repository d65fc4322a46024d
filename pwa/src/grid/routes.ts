// The grid screens' own routes (pure, tested): `rest` is the path after /grid, with the query.

const SHOP_CODE = /^[A-Za-z0-9_-]{1,32}$/;

export type GridRoute =
  | { name: 'list' }
  | { name: 'scan' }
  | { name: 'shop'; code: string }
  | { name: 'patrol'; code: string }
  | { name: 'verify'; code: string; hazard: string }
  | { name: 'activation'; code: string }
  | { name: 'notFound' };

/** Pure: which grid screen a `rest` path shows. */
export function matchGridRoute(rest: string): GridRoute {
  const path = rest.split('?')[0] ?? '';
  const parts = path
    .split('/')
    .filter((p) => p !== '')
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return '\u0000'; // malformed escape: matches nothing
      }
    });
  if (parts.length === 0) return { name: 'list' };
  if (parts.length === 1 && parts[0] === 'scan') return { name: 'scan' };
  const [s, code, sub, key] = parts;
  if (s !== 's' || !code || !SHOP_CODE.test(code)) return { name: 'notFound' };
  if (parts.length === 2) return { name: 'shop', code };
  if (parts.length === 3 && sub === 'patrol') return { name: 'patrol', code };
  if (parts.length === 3 && sub === 'activation') return { name: 'activation', code };
  if (parts.length === 4 && sub === 'verify' && key && /^[A-Za-z0-9_-]{1,100}$/.test(key))
    return { name: 'verify', code, hazard: key };
  return { name: 'notFound' };
}
