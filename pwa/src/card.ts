// The public shop card (GET /api/public/shops/{code}), kept in localStorage so it still shows offline.
import { store, storedJson } from './device';

export interface Card {
  code: string;
  name: string | null;
  address: string | null;
  points: number | null;
  rank: number | null;
  of: number | null;
  list: 'red' | 'black' | null;
  last_self_check: string | null;
  last_patrol: string | null;
}

const KEY = 'mashang.card.';

export function cachedCard(code: string): Card | null {
  return storedJson<Card | null>(KEY + code, null);
}

/** The card from the server (revalidated, never a stale HTTP cache), else the last one saved; `fresh` says which. */
export async function loadCard(code: string): Promise<{ card: Card | null; fresh: boolean; missing: boolean }> {
  try {
    const res = await fetch(`/api/public/shops/${encodeURIComponent(code)}`, { cache: 'no-cache' });
    if (res.status === 404) return { card: null, fresh: true, missing: true };
    if (res.ok) {
      const card = (await res.json()) as Card;
      store(KEY + code, JSON.stringify(card));
      return { card, fresh: true, missing: false };
    }
  } catch {
    // offline
  }
  return { card: cachedCard(code), fresh: false, missing: false };
}
