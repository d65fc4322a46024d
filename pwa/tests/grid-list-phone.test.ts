// @vitest-environment happy-dom
// The grid worker's list on a cheap phone with a city grid (260 shops, a year of history on the phone): it draws its
// cards a page at a time, opens again without reading every document when nothing changed, leaves the owners'
// photos until the download has caught up, and a list left behind lets go of what it read.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Doc } from '../src/grid/docs';
import { FakeLocalDb, shop } from './grid-fixtures';

const phone = vi.hoisted(() => ({
  db: null as unknown,
  pulling: false,
  listeners: new Set<(status: { pulling: boolean }) => void>(),
  kept: [] as string[][],
}));

vi.mock('../src/db', () => ({
  localDb: () => phone.db,
  refusedIds: () => new Set<string>(),
  shopsWaiting: () => new Set<string>(),
  whileShown: () => undefined,
}));
vi.mock('../src/sync-status', () => ({
  getSyncStatus: () => ({ pulling: phone.pulling }),
  onSyncStatus: (listener: (status: { pulling: boolean }) => void) => {
    phone.listeners.add(listener);
    listener({ pulling: phone.pulling });
    return () => phone.listeners.delete(listener);
  },
}));
vi.mock('../src/session', () => ({
  currentSession: () => ({ token: 't', user: { id: 'grid:zhou01', role: 'grid' } }),
  apiFetch: async () => new Response(JSON.stringify({ rows: [] })),
  signOut: async () => undefined,
}));
vi.mock('../src/photo-cache', () => ({
  keepPhotos: async (ids: string[]) => void phone.kept.push(ids),
  thumbUrl: async () => null,
}));

function selfCheck(code: string, n: number, photo: boolean): Doc {
  const key = `01M7YN07V8XQJ7JEF02Y1D${String(n).padStart(4, '0')}`;
  return {
    _id: `${code}:self_check:${key}`,
    type: 'self_check',
    shop: code,
    template: 'district:template:fire-gas',
    template_version: 1,
    performed_at: `2026-${String(1 + (n % 10)).padStart(2, '0')}-10T10:00:00+08:00`,
    answers: { gas_safe: { value: true, ...(photo ? { photos: [`${code}:photo:${key}`] } : {}) } },
  } as unknown as Doc;
}

/** A grid of `shops` shops with a few months of weekly self-checks each. */
function grid(db: FakeLocalDb, shops: number): void {
  for (let s = 1; s <= shops; s++) {
    const code = `S${String(s).padStart(4, '0')}`;
    db.write(shop(code), { _id: `${code}:score`, type: 'score', shop: code, points: 100 - (s % 7), open_hazards: 0 });
    for (let n = 0; n < 10; n++) db.write(selfCheck(code, n, n === 9));
  }
}

async function openList(): Promise<HTMLElement> {
  const { listView } = await import('../src/grid/list');
  const view = listView('');
  document.body.replaceChildren(view.node);
  await vi.waitFor(() => expect(view.node.querySelector('a.g-shop, .g-notice')).not.toBeNull());
  return view.node;
}

const cards = (node: HTMLElement): string[] => [...node.querySelectorAll<HTMLElement>('a.g-shop')].map((a) => a.dataset.shop ?? '');

let db: FakeLocalDb;

beforeEach(() => {
  vi.resetModules(); // a new page: nothing in memory
  localStorage.clear();
  db = new FakeLocalDb();
  phone.db = db;
  phone.pulling = false;
  phone.listeners.clear();
  phone.kept = [];
});

describe("a city grid's list on a cheap phone", () => {
  it('draws its cards a page at a time, the next page as the end of the list comes near', async () => {
    const observers: ((entries: { isIntersecting: boolean }[]) => void)[] = [];
    vi.stubGlobal(
      'IntersectionObserver',
      class {
        constructor(callback: (entries: { isIntersecting: boolean }[]) => void) {
          observers.push(callback);
        }
        observe(): void {}
        unobserve(): void {}
        disconnect(): void {}
      },
    );
    grid(db, 100);
    const node = await openList();
    expect(cards(node)).toHaveLength(40);
    const more = node.querySelector<HTMLButtonElement>('[data-action=more-shops]')!;
    expect(more.hidden).toBe(false);
    expect(more.dataset.left).toBe('60');
    more.click(); // a keyboard, a screen reader
    expect(cards(node)).toHaveLength(80);
    for (const seen of observers) seen([{ isIntersecting: true }]); // scrolled near the end
    expect(cards(node)).toHaveLength(100);
    expect(more.hidden).toBe(true);
    // In the same order as drawn at once: the most urgent (the lowest score) first.
    expect(new Set(cards(node)).size).toBe(100);
    vi.unstubAllGlobals();
  });

  it('fills a tall screen without a scroll or a tap', async () => {
    // A browser's observer reports a target as soon as it is watched, and after that only a change: the button stays
    // near the end of a screen taller than a page's cards, so only a fresh watch reports it again.
    vi.stubGlobal(
      'IntersectionObserver',
      class {
        constructor(private readonly callback: (entries: { isIntersecting: boolean }[]) => void) {}
        observe(): void {
          queueMicrotask(() => this.callback([{ isIntersecting: true }]));
        }
        unobserve(): void {}
        disconnect(): void {}
      },
    );
    grid(db, 100);
    const node = await openList();
    await vi.waitFor(() => expect(cards(node)).toHaveLength(100));
    expect(node.querySelector<HTMLButtonElement>('[data-action=more-shops]')!.hidden).toBe(true);
    vi.unstubAllGlobals();
  });

  it('opens again without reading every document when nothing was written since', async () => {
    grid(db, 30);
    expect(cards(await openList())).toHaveLength(30);
    await vi.waitFor(async () => expect(await db.get('_local/grid-list').catch(() => null)).not.toBeNull());

    vi.resetModules(); // the browser killed the tab; the worker opens the app again
    db.docsRead = 0;
    const again = await openList();
    expect(cards(again)).toHaveLength(30);
    expect(db.docsRead).toBe(0);

    // The next morning (a new week): what is due is worked out again from what was saved, not from every document.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 7 * 86_400_000);
    vi.resetModules();
    const monday = await openList();
    expect(cards(monday)).toEqual(cards(again));
    expect(db.docsRead).toBe(0);
    vi.useRealTimers();
  });

  it('opens again from what it read when the phone has changed since', async () => {
    grid(db, 30);
    const before = cards(await openList());
    await vi.waitFor(async () => expect(await db.get('_local/grid-list').catch(() => null)).not.toBeNull());
    db.write({ _id: 'S0030:score', type: 'score', shop: 'S0030', points: 3, open_hazards: 0 }); // pulled meanwhile
    vi.resetModules();
    const again = cards(await openList());
    expect(again[0]).toBe('S0030');
    expect(again.slice(1)).toEqual(before.filter((c) => c !== 'S0030'));
  });

  it("leaves the owners' photos until the download has caught up", async () => {
    phone.pulling = true;
    grid(db, 5);
    await openList();
    expect(phone.kept).toEqual([]);
    phone.pulling = false;
    for (const listener of [...phone.listeners]) listener({ pulling: false });
    await vi.waitFor(() => expect(phone.kept.at(-1)).toHaveLength(5));
  });

  it('lets go of the list it left: a new list stops the last one following the sync status', async () => {
    grid(db, 3);
    await openList();
    await openList();
    await openList();
    expect(phone.listeners.size).toBe(1);
  });
});
