// @vitest-environment happy-dom
// The red/black list and the sync monitor of a district's sub-district (30,000 shops, as many owners and phones)
// ask the server for a page, with the filters and a search, and keep the figures of the whole list.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const asked: string[] = [];
const TOTAL = 30_000;
const shopAt = (n: number): string => `S${String(n).padStart(5, '0')}`;

function rankingPage(url: URL): Record<string, unknown> {
  const list = url.searchParams.get('list');
  const offset = Number(url.searchParams.get('offset') ?? 0);
  const limit = Number(url.searchParams.get('limit') ?? 50);
  const total = list === 'red' || list === 'black' ? 1500 : url.searchParams.get('working_group') ? 40 : TOTAL;
  const shown = Math.max(0, Math.min(limit, total - offset));
  return {
    month: '2026-11',
    of: TOTAL,
    total,
    offset,
    limit,
    counts: { red: 1500, black: 1500, none: 27_000, working_group: 40 },
    working_group: [],
    published: null,
    entries: Array.from({ length: shown }, (_, i) => ({
      rank: offset + i + 1,
      shop: shopAt(offset + i + 1),
      name: `面馆${offset + i + 1}`,
      points: 100,
      open_hazards: 0,
      list: list === 'black' ? 'black' : list === 'red' || offset + i < 1500 ? 'red' : null,
    })),
  };
}

function monitorPage(url: URL): Record<string, unknown> {
  const users = Number(url.searchParams.get('offset') ?? 0);
  const devices = Number(url.searchParams.get('devices_offset') ?? 0);
  const only = url.searchParams.get('only');
  const total = only === 'problems' ? 120 : TOTAL;
  const rows = (offset: number) => Array.from({ length: Math.min(50, total - offset) }, (_, i) => offset + i + 1);
  return {
    limit: 50,
    offset: { users, devices },
    total: { users: total, devices: total },
    counts: {
      users: { all: TOTAL, problems: 120, silent: 80, waiting: 30, refused: 10, seen: TOTAL },
      devices: { all: TOTAL, problems: 120, silent: 80, waiting: 40, refused: 10, seen: TOTAL, silent_waiting: 12 },
    },
    devices: rows(devices).map((n) => ({ device: `d-${n}`, user_id: `owner:${shopAt(n)}`, shop: shopAt(n), shop_name: `面馆${n}` })),
    users: rows(users).map((n) => ({ user_id: `owner:${shopAt(n)}`, shop: shopAt(n), shop_name: `面馆${n}`, refused: 0 })),
    // The owner of the newest refused document is on no page shown: named all the same.
    people: { 'owner:S29999': { name: 'S29999', shop: 'S29999', shop_name: '江东生活超市' } },
    backup: { kind: 'couchdb' },
    projection_failures: [],
  };
}

// The quarantine holds 450 refused documents, newest first; each page names the owners it holds by their shop.
const REFUSED = 450;
const refusedAt = (i: number) => ({
  _id: `quarantine:refused:${String(REFUSED - i).padStart(4, '0')}`,
  user: i === 0 ? 'owner:S29999' : `owner:${shopAt(40_000 + i)}`,
  doc_id: `x:self_check:${i}`,
  reason: `not yours ${i}`,
});

function quarantinePage(url: URL): Record<string, unknown> {
  const before = url.searchParams.get('before');
  const from = before === null ? 0 : REFUSED - Number(before.split(':').at(-1)) + 1;
  const items = Array.from({ length: Math.max(0, Math.min(Number(url.searchParams.get('limit')), REFUSED - from)) }, (_, k) =>
    refusedAt(from + k),
  );
  const last = items.at(-1);
  const people = Object.fromEntries(
    items.slice(before === null ? 1 : 0).map((e) => [e.user, { shop: e.user.slice(6), shop_name: `旧店${e.user.slice(7)}` }]),
  );
  return { items, next: last && from + items.length < REFUSED ? last._id : null, people };
}

vi.mock('../src/office/api', async (actual) => ({
  ...(await actual<typeof import('../src/office/api')>()),
  get: async (path: string) => {
    asked.push(path);
    const url = new URL(path, 'http://office.test');
    if (url.pathname === '/api/office/rankings') return { months: [{ month: '2026-11' }] };
    if (url.pathname === '/api/office/ranking') return rankingPage(url);
    if (url.pathname === '/api/office/sync-monitor') return monitorPage(url);
    if (url.pathname === '/api/office/quarantine') return quarantinePage(url);
    throw new Error(`unexpected ${path}`);
  },
}));
vi.mock('../src/office/people', () => ({
  staffNames: async () => new Map([['grid:zhou', '周明']]),
  personName: (_: unknown, id: string) => id,
}));
vi.mock('../src/office/reach', async (actual) => ({
  ...(await actual<typeof import('../src/office/reach')>()),
  ownSubdistrict: () => null,
  subdistricts: async () => [],
}));

const calls = (path: string): string[] => asked.filter((u) => u.startsWith(path));
const last = (path: string): URLSearchParams => new URLSearchParams(calls(path).at(-1)?.split('?')[1] ?? '');
const settled = (root: HTMLElement): boolean => root.querySelectorAll('[aria-busy=true]').length === 0;

beforeEach(() => {
  asked.length = 0;
  document.body.replaceChildren();
});

describe('a pager of a list the server pages', () => {
  it('says which rows of how many are shown, and asks for the page before or after', async () => {
    const { pager } = await import('../src/office/ui');
    const went: number[] = [];
    const first = pager('all', { offset: 0, limit: 50, total: TOTAL, shown: 50 }, (to) => went.push(to));
    expect(first.textContent).toContain('第 1–50 条，共 30,000 条');
    const prev = first.querySelector<HTMLButtonElement>('[data-action=prev-page]')!;
    const next = first.querySelector<HTMLButtonElement>('[data-action=next-page]')!;
    expect([prev.disabled, next.disabled]).toEqual([true, false]);
    next.click();
    const end = pager('all', { offset: 29_950, limit: 50, total: TOTAL, shown: 50 }, (to) => went.push(to));
    expect(end.textContent).toContain('第 29,951–30,000 条，共 30,000 条');
    expect(end.querySelector<HTMLButtonElement>('[data-action=next-page]')!.disabled).toBe(true);
    end.querySelector<HTMLButtonElement>('[data-action=prev-page]')!.click();
    expect(went).toEqual([50, 29_900]);
    expect(end.dataset.pager).toBe('all');
    expect(pager('all', { offset: 0, limit: 50, total: 0, shown: 0 }, () => undefined).hidden).toBe(true);
    const whole = pager('red', { offset: 0, limit: 50, total: 7, shown: 7 }, () => undefined);
    expect(whole.textContent).toBe('第 1–7 条，共 7 条');
    expect(whole.querySelectorAll('button')).toHaveLength(0); // all of it on one page
  });
});

describe('a search box', () => {
  afterEach(() => vi.useRealTimers());

  it('asks once typing pauses, at once on Enter, and not again for the same text', async () => {
    vi.useFakeTimers();
    const { searchBox, SEARCH_WAIT_MS } = await import('../src/office/ui');
    const searched: string[] = [];
    const box = searchBox('q', 'search', (q) => searched.push(q));
    for (const text of ['面', '面馆', '面馆 ']) {
      box.value = text;
      box.dispatchEvent(new Event('input'));
      vi.advanceTimersByTime(SEARCH_WAIT_MS - 50);
    }
    expect(searched).toEqual([]);
    vi.advanceTimersByTime(50);
    expect(searched).toEqual(['面馆']);
    box.value = 'S0001';
    box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    expect(searched).toEqual(['面馆', 'S0001']);
  });
});

describe('a box filled again and again', () => {
  it('shows the answer of the latest request, whatever order the answers come in', async () => {
    const { refresher } = await import('../src/office/ui');
    const box = document.createElement('div');
    const fill = refresher(box);
    let slow: (text: string) => void = () => undefined;
    const first = fill(() => new Promise<string>((resolve) => (slow = resolve)));
    const second = fill(async () => 'page 2');
    expect(await second).toBe(true);
    expect(box.textContent).toBe('page 2');
    slow('page 1');
    expect(await first).toBe(false);
    expect(box.textContent).toBe('page 2');
    expect(box.getAttribute('aria-busy')).toBeNull();
  });
});

describe('the red/black list of 30,000 shops', () => {
  it('shows a page of each list with the whole month’s figures, and asks for the next page, a list and a search', async () => {
    const { ranking } = await import('../src/office/ranking');
    const root = ranking(new URLSearchParams(), []);
    document.body.append(root);
    await vi.waitFor(() => expect(root.querySelectorAll('[data-ranking=all] tbody tr')).toHaveLength(50));
    await vi.waitFor(() => expect(settled(root)).toBe(true));
    const counts = root.querySelector<HTMLElement>('[data-ranking-counts]')!;
    expect(counts.textContent).toBe('共 30,000 家店铺参与排名：红榜 1,500 家，黑榜 1,500 家，专班整治 40 家');
    expect(root.querySelectorAll('[data-ranking=red] tbody tr')).toHaveLength(50);
    expect(root.querySelectorAll('[data-ranking=black] tbody tr')).toHaveLength(50);
    expect(root.querySelector('[data-pager=red]')!.textContent).toContain('第 1–50 条，共 1,500 条');
    const all = root.querySelector<HTMLElement>('[data-pager=all]')!;
    expect(all.textContent).toContain('第 1–50 条，共 30,000 条');
    // Every call asks for a page, never the whole list.
    expect(calls('/api/office/ranking?').every((u) => u.includes('limit=50'))).toBe(true);

    all.querySelector<HTMLButtonElement>('[data-action=next-page]')!.click();
    await vi.waitFor(() => expect(root.querySelector('[data-pager=all]')!.textContent).toContain('第 51–100 条'));
    expect(last('/api/office/ranking?').get('offset')).toBe('50');
    expect(root.querySelector('[data-ranking=all] tbody tr small')!.textContent).toBe('S00051');
    expect(counts.isConnected && counts.textContent).toContain('30,000'); // the figures stay

    const list = root.querySelector<HTMLSelectElement>('.screen.ranking select[name=list]')!;
    list.value = 'black';
    list.dispatchEvent(new Event('change'));
    await vi.waitFor(() => expect(last('/api/office/ranking?').get('list')).toBe('black'));
    expect(last('/api/office/ranking?').get('offset')).toBeNull(); // back to the first page

    const search = root.querySelector<HTMLInputElement>('.screen.ranking input[name=q]')!;
    search.value = '面馆12';
    search.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    await vi.waitFor(() => expect(last('/api/office/ranking?').get('q')).toBe('面馆12'));
    expect(last('/api/office/ranking?').get('list')).toBe('black');
  });
});

describe('the sync monitor of 30,000 owners', () => {
  it('pages devices and users apart, keeps the figures of the whole monitor, and narrows both lists', async () => {
    const { syncMonitor } = await import('../src/office/syncmon');
    const root = syncMonitor(new URLSearchParams(), []);
    document.body.append(root);
    await vi.waitFor(() => expect(root.querySelectorAll('[data-table=sync-users] tbody tr')).toHaveLength(50));
    await vi.waitFor(() => expect(settled(root)).toBe(true));
    expect(root.querySelector('[data-summary]')!.textContent).toBe(
      '共 30,000 台设备，80 台超过 3 天未同步，其中 12 台仍有数据待上传；30,000 位用户中 80 位超过 3 天未同步',
    );
    expect(root.querySelectorAll('[data-table=devices] tbody tr')).toHaveLength(50);
    expect(root.querySelector('[data-pager=devices]')!.textContent).toContain('第 1–50 条，共 30,000 条');
    expect(last('/api/office/sync-monitor').get('only')).toBe('seen'); // users never seen are left out, as before
    // A page of 30,000 is not sorted as if it were all of them.
    expect(root.querySelectorAll('[data-table=sync-users] th button.sort')).toHaveLength(0);
    // The refused document's owner, on no page shown, by their shop's name.
    await vi.waitFor(() => expect(root.querySelector('[data-table=quarantine] tbody')!.textContent).toContain('江东生活超市 · 店主'));

    root.querySelector<HTMLButtonElement>('[data-pager=users] [data-action=next-page]')!.click();
    await vi.waitFor(() => expect(root.querySelector('[data-pager=users]')!.textContent).toContain('第 51–100 条'));
    root.querySelector<HTMLButtonElement>('[data-pager=devices] [data-action=next-page]')!.click();
    await vi.waitFor(() => expect(root.querySelector('[data-pager=devices]')!.textContent).toContain('第 51–100 条'));
    expect(last('/api/office/sync-monitor').get('offset')).toBe('50'); // the users' page kept
    expect(last('/api/office/sync-monitor').get('devices_offset')).toBe('50');
    expect(root.querySelector('[data-pager=users]')!.textContent).toContain('第 51–100 条');

    const attention = root.querySelector<HTMLInputElement>('input[name=attention]')!;
    attention.checked = true;
    attention.dispatchEvent(new Event('change'));
    await vi.waitFor(() => expect(root.querySelector('[data-pager=users]')!.textContent).toContain('第 1–50 条，共 120 条'));
    const narrowed = last('/api/office/sync-monitor');
    expect([narrowed.get('only'), narrowed.get('offset'), narrowed.get('devices_offset')]).toEqual(['problems', null, null]);
    expect(root.querySelector('[data-summary]')!.textContent).toContain('共 30,000 台设备'); // the whole monitor's

    const role = root.querySelector<HTMLSelectElement>('select[name=role]')!;
    role.value = 'grid';
    role.dispatchEvent(new Event('change'));
    const search = root.querySelector<HTMLInputElement>('.screen.sync-monitor input[name=q]')!;
    search.value = '江东';
    search.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    await vi.waitFor(() => expect(last('/api/office/sync-monitor').get('q')).toBe('江东'));
    expect(last('/api/office/sync-monitor').get('role')).toBe('grid');
    expect(last('/api/office/sync-monitor').get('only')).toBe('problems');
    expect(calls('/api/office/sync-monitor').every((u) => u.includes('limit=50'))).toBe(true);
  });
});

describe('the refused documents past the newest 200', () => {
  it('says that older ones are there, and shows them a page at a time with 更早的记录, each owner by their shop', async () => {
    const { syncMonitor } = await import('../src/office/syncmon');
    const root = syncMonitor(new URLSearchParams(), []);
    document.body.append(root);
    const more = (): HTMLElement => root.querySelector<HTMLElement>('[data-refused-more]')!;
    const older = (): HTMLButtonElement | null => more().querySelector<HTMLButtonElement>('[data-action=older-refused]');
    const tables = (): HTMLElement[] => [...root.querySelectorAll<HTMLElement>('[data-table=quarantine]')];
    await vi.waitFor(() => expect(more().textContent).toContain('显示最近 200 条，还有更早的记录'));
    expect(calls('/api/office/quarantine')).toEqual(['/api/office/quarantine?limit=200']);
    expect(tables()).toHaveLength(1);
    // The newest one's owner is named by the monitor; the table draws 100 rows, the rest on request.
    expect(tables()[0]!.querySelector('tbody tr')!.textContent).toContain('江东生活超市 · 店主');

    older()!.click();
    await vi.waitFor(() => expect(tables()).toHaveLength(2));
    expect(calls('/api/office/quarantine').at(-1)).toBe('/api/office/quarantine?limit=200&before=quarantine%3Arefused%3A0251');
    const second = tables()[1]!.querySelector('tbody tr')!.textContent;
    expect(second).toContain('not yours 200');
    expect(second).toContain('旧店40200 · 店主'); // named by the page, though the monitor names only the newest
    expect(tables()[0]!.querySelector('tbody tr')!.textContent).toContain('not yours 0'); // the newest stay above
    expect(more().textContent).toContain('显示最近 400 条，还有更早的记录');

    older()!.click();
    await vi.waitFor(() => expect(tables()).toHaveLength(3));
    expect(tables()[2]!.querySelectorAll('tbody tr')).toHaveLength(50);
    expect(tables()[2]!.querySelector('tbody tr:last-child')!.textContent).toContain('not yours 449');
    expect(more().textContent).toBe('共 450 条');
    expect(older()).toBeNull();
  });
});
