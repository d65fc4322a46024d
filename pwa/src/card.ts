// The public shop card (GET /api/public/shops/{code}), kept in localStorage so it still shows offline.
import { store, storedJson } from './device';

export interface Card {
  code: string;
  name: string | null;
  address: string | null;
  points: number | null;
  rank: number | null;
  of: number | null;
  /** The shop's list in the latest list the office published (公示), never the provisional one of `{code}:score`. */
  list: 'red' | 'black' | null;
  /** The month of that publication ("2026-11"); null while nothing is published (absent in a card cached before). */
  list_month?: string | null;
  last_self_check: string | null;
  last_patrol: string | null;
  /** When this phone received the card from the server (added here, not sent by the server). */
  saved_at?: string;
  /** When this phone last fetched the card from the server (its name and dates are of then); `saved_at` moves on
   *  when a newer score from the phone's synced document is kept in it (`rememberScore`). */
  fetched_at?: string;
}

/** The shop's `{code}:score` document as this phone holds it (synced for a signed-in owner). */
export interface LocalScore {
  points: number;
  rank: number | null;
  of: number | null;
  /** The provisional list of the month still running: the owner's home explains it (本月暂列), the card never shows it. */
  list?: 'red' | 'black' | null;
  /** The time of the latest event the server counted in it. */
  updated_at?: string | null;
}

export interface ShownScore {
  points: number | null;
  rank: number | null;
  of: number | null;
  /** Always the card's: the published list and its month. */
  list: 'red' | 'black' | null;
  listMonth: string | null;
  from: 'card' | 'local' | null;
}

function at(value: string | null | undefined): number {
  return value ? Date.parse(value) : NaN;
}

/**
 * Which score the card shows: the public card (fetched now, or cached with the time it was received) or the
 * phone's synced `{code}:score` document, whichever is newer. The document is newer when the latest event it
 * counts happened after the card was received. Without both times, a card fetched now wins (it is the server's
 * answer this moment) and a cached one loses to the document (which sync keeps current). `localChanged`: the
 * document changed while shown and the card could not be fetched again (offline): the document is the newest.
 * The list is the card's whichever wins: the street sees the list the office published, with its month, and the
 * document's list is the provisional one of the month still running.
 */
export function chooseScore(card: Card | null, fresh: boolean, local: LocalScore | null, localChanged = false): ShownScore {
  const fromCard: ShownScore = card
    ? { points: card.points, rank: card.rank, of: card.of, list: publishedList(card), listMonth: card.list_month ?? null, from: 'card' }
    : { points: null, rank: null, of: null, list: null, listMonth: null, from: null };
  if (!local) return fromCard;
  const fromLocal: ShownScore = {
    points: local.points,
    // A shop is ranked a moment after it is scored: until then keep the card's rank.
    rank: local.rank ?? card?.rank ?? null,
    of: local.rank != null ? (local.of ?? null) : (card?.of ?? null),
    list: fromCard.list,
    listMonth: fromCard.listMonth,
    from: 'local',
  };
  if (!card || card.points === null || (localChanged && !fresh)) return fromLocal;
  const localAt = at(local.updated_at);
  const cardAt = at(card.saved_at);
  if (Number.isFinite(localAt) && Number.isFinite(cardAt)) return localAt > cardAt ? fromLocal : fromCard;
  return fresh ? fromCard : fromLocal;
}

/** The card's list, if it is a published one: a card saved before the server named the list's month (no
 *  `list_month` at all) held the month's provisional list, which the street must not read as the office's verdict;
 *  it shows none until the phone fetches the card again. */
function publishedList(card: Card): Card['list'] {
  return card.list_month === undefined ? null : card.list;
}

/** Keep a newer score the phone learnt (from its synced document) in the cached card, so it shows offline too (the
 *  published list stays the card's). */
export function rememberScore(code: string, score: ShownScore): void {
  const card = cachedCard(code);
  if (!card || score.from !== 'local') return;
  store(KEY + code, JSON.stringify({ ...card, points: score.points, rank: score.rank, of: score.of, saved_at: new Date().toISOString() }));
}

const KEY = 'mashang.card.';

/** Why a code has no card: its shop is closed, or there is no such shop. */
export type Absent = 'closed' | 'missing';

export function cachedCard(code: string): Card | null {
  return storedJson<Card | null>(KEY + code, null);
}

/** The card from the server (revalidated, never a stale HTTP cache), else the last one saved; `fresh` says which. */
export async function loadCard(code: string): Promise<{ card: Card | null; fresh: boolean; absent: Absent | null }> {
  try {
    const res = await fetch(`/api/public/shops/${encodeURIComponent(code)}`, { cache: 'no-cache' });
    if (res.status === 404) {
      // server/card.py: the 404's reason says whether the shop is closed or there is none.
      const body = (await res.json().catch(() => ({}))) as { reason?: unknown };
      return { card: null, fresh: true, absent: body.reason === 'closed' ? 'closed' : 'missing' };
    }
    if (res.ok) {
      const now = new Date().toISOString();
      const card = { ...((await res.json()) as Card), saved_at: now, fetched_at: now };
      store(KEY + code, JSON.stringify(card));
      return { card, fresh: true, absent: null };
    }
  } catch {
    // offline
  }
  return { card: cachedCard(code), fresh: false, absent: null };
}
