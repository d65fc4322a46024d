// Which shops on this phone are still the grid worker's. A shop the office moved to another grid stays in the
// phone's database (its documents are not deleted, and the server sends nothing more about it), so the list asks
// the server, when online, which of the shops it holds the worker may still read: `/sync/_all_docs` with their
// shop documents' ids answers one outside the worker's scope as missing, as it does for any shop not theirs. The
// answer is remembered for offline use. Pure but for localStorage (tested in tests/grid-scope.test.ts).
import { store, storedJson } from '../device';

const KEY = 'mashang.grid.outOfScope';
/** How soon the list, shown or redrawn, asks again (one small request; a move takes the shop away at once). */
export const SCOPE_CHECK_MS = 60_000;
/** Ids per request: the gateway takes at most 1000 `keys` from a device. */
export const KEYS_PER_ASK = 1000;

interface Remembered {
  user: string;
  /** Out of scope at the last answer. */
  codes: string[];
  /** Every shop that answer was about. */
  asked: string[];
  at: number;
}

export function shopDocId(code: string): string {
  return `${code}:shop:${code}`;
}

function remembered(user: string): Remembered | null {
  const found = storedJson<Remembered | null>(KEY, null);
  return found && found.user === user && Array.isArray(found.codes) && Array.isArray(found.asked) ? found : null;
}

/** The shops the server last said this user may no longer read (none until it has been asked). */
export function outOfScope(user: string): Set<string> {
  return new Set(remembered(user)?.codes ?? []);
}

/** Whether the list should ask the server again: never asked, asked long ago, or a shop it never asked about. */
export function scopeCheckDue(user: string, codes: Iterable<string>, now: number): boolean {
  const last = remembered(user);
  if (!last || now - last.at >= SCOPE_CHECK_MS || now < last.at) return true;
  const asked = new Set(last.asked);
  return [...codes].some((c) => !asked.has(c));
}

/** The codes whose shop document the answer's rows give as missing (or deleted): outside the scope now. */
export function outsideOf(codes: readonly string[], rows: unknown): string[] {
  if (!Array.isArray(rows)) throw new Error('not an _all_docs answer');
  const found = new Map<string, boolean>();
  for (const row of rows as { key?: unknown; error?: unknown; value?: { deleted?: unknown } }[]) {
    if (typeof row?.key !== 'string') continue;
    found.set(row.key, row.error === undefined && row.value?.deleted !== true);
  }
  // A key the answer leaves out is not taken as an answer: the shop stays listed.
  return codes.filter((c) => found.get(shopDocId(c)) === false);
}

/**
 * Ask the server (`ask`: POST /sync/_all_docs {keys} → its rows) which of `codes` this user may still read, and
 * remember those they may not. Answers the shops out of scope now; on a failure (offline, server down) the last
 * answer stands and this rejects.
 */
export async function checkScope(
  user: string,
  codes: readonly string[],
  ask: (keys: string[]) => Promise<unknown>,
  now: number = Date.now(),
): Promise<Set<string>> {
  const outside: string[] = [];
  for (let i = 0; i < codes.length; i += KEYS_PER_ASK) {
    const part = codes.slice(i, i + KEYS_PER_ASK);
    outside.push(...outsideOf(part, await ask(part.map(shopDocId))));
  }
  store(KEY, JSON.stringify({ user, codes: outside, asked: [...codes], at: now } satisfies Remembered));
  return new Set(outside);
}

/** `files` (by shop code) without the shops out of scope. */
export function withoutOutside<T>(files: ReadonlyMap<string, T>, outside: ReadonlySet<string>): Map<string, T> {
  return new Map([...files].filter(([code]) => !outside.has(code)));
}
