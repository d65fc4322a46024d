// @vitest-environment happy-dom
// The office works its hazards from the shops list (跟踪到底，直至整改): the overview's 逾期未整改隐患 opens the shops
// with overdue hazards, the shops screen keeps the 隐患 filter (全部 / 有未销号隐患 / 有逾期隐患) in the URL with its
// other filters, asks the server for it, and says the list is most urgent first.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setLang } from '../src/i18n';

const asked: string[] = [];
const went: string[] = [];

interface Row {
  code: string;
  name: string;
  status: string;
  open_hazards: number;
  overdue_hazards: number;
  earliest_deadline: string | null;
}
// As the server answers `?hazards=overdue`: most overdue first, then the earliest deadline (S0002 before S0001).
const URGENT: Row[] = [
  { code: 'S0003', name: '面馆3', status: 'active', open_hazards: 2, overdue_hazards: 2, earliest_deadline: '2026-11-20' },
  { code: 'S0002', name: '面馆2', status: 'active', open_hazards: 2, overdue_hazards: 1, earliest_deadline: '2026-11-14' },
  { code: 'S0001', name: '面馆1', status: 'active', open_hazards: 2, overdue_hazards: 1, earliest_deadline: '2026-11-18' },
];
const ALL: Row[] = [
  ...[...URGENT].sort((a, b) => a.code.localeCompare(b.code)),
  { code: 'S0004', name: '面馆4', status: 'active', open_hazards: 0, overdue_hazards: 0, earliest_deadline: null },
];

vi.mock('../src/office/api', async (actual) => ({
  ...(await actual<typeof import('../src/office/api')>()),
  get: async (path: string) => {
    asked.push(path);
    const url = new URL(path, 'http://office.test');
    if (url.pathname === '/api/office/shops') {
      const items = url.searchParams.get('hazards') ? URGENT : ALL;
      return { items, total: items.length, limit: 50, offset: 0 };
    }
    if (url.pathname === '/api/office/communities') return [{ id: 'wensan', name: '文三社区', shops: 4 }];
    if (url.pathname === '/api/office/summary')
      return { shops_active: 4, overdue_hazards: 4, open_alarms: 1, last_year: { overdue_hazards: 2 }, by_community: [], by_grid: [] };
    if (url.pathname === '/api/office/trend') return { months: [] };
    throw new Error(`unexpected ${path}`);
  },
}));
vi.mock('../src/router', async (actual) => ({
  ...(await actual<typeof import('../src/router')>()),
  navigate: (to: string) => went.push(to),
}));

const settled = (root: HTMLElement): boolean => root.querySelectorAll('[aria-busy=true]').length === 0;
const shopCalls = (): URLSearchParams[] =>
  asked.filter((u) => u.startsWith('/api/office/shops')).map((u) => new URLSearchParams(u.split('?')[1] ?? ''));

beforeEach(() => {
  asked.length = 0;
  went.length = 0;
  document.body.replaceChildren();
});
afterEach(() => setLang('zh-CN'));

async function shopsScreen(query: string): Promise<HTMLElement> {
  const { shops } = await import('../src/office/shops');
  const root = shops(new URLSearchParams(query), []);
  document.body.append(root);
  await vi.waitFor(() => expect(root.querySelector('[data-table=shops]')).not.toBeNull());
  await vi.waitFor(() => expect(settled(root)).toBe(true));
  return root;
}

describe('the shops screen’s hazard filter', () => {
  it('offers 全部 / 有未销号隐患 / 有逾期隐患, and shows the overdue shops as the server orders them', async () => {
    const root = await shopsScreen('hazards=overdue&status=active&community=wensan');
    const filter = root.querySelector<HTMLSelectElement>('select[name=hazards]')!;
    expect([...filter.options].map((o) => [o.value, o.textContent])).toEqual([
      ['', '全部'],
      ['open', '有未销号隐患'],
      ['overdue', '有逾期隐患'],
    ]);
    expect(filter.value).toBe('overdue');
    expect(filter.closest('label')!.textContent).toContain('隐患');
    const call = shopCalls().at(-1)!;
    expect([call.get('hazards'), call.get('status'), call.get('community')]).toEqual(['overdue', 'active', 'wensan']);
    // The server's order, kept (not by code), and said.
    const rows = [...root.querySelectorAll<HTMLElement>('[data-table=shops] tbody tr')];
    expect(rows.map((r) => r.dataset.shop)).toEqual(['S0003', 'S0002', 'S0001']);
    expect(root.querySelector('[data-order=urgency]')!.textContent).toContain('最紧急的在前');
    const heads = [...root.querySelectorAll('[data-table=shops] th')].map((th) => th.textContent);
    expect(heads).toContain('逾期隐患');
    expect(heads).toContain('最早整改期限');
    expect(rows[1]!.textContent).toContain('2026-11-14');
    expect(rows.every((r) => r.classList.contains('overdue'))).toBe(true); // each has an overdue hazard
  });

  it('keeps the filter in the URL with the others when searched, and drops it for 全部', async () => {
    const root = await shopsScreen('status=active&community=wensan');
    expect(shopCalls().at(-1)!.get('hazards')).toBeNull();
    expect(root.querySelector('[data-order=urgency]')).toBeNull(); // by code, as before
    expect([...root.querySelectorAll('[data-table=shops] th')].map((th) => th.textContent)).not.toContain('最早整改期限');
    const filter = root.querySelector<HTMLSelectElement>('select[name=hazards]')!;
    expect(filter.value).toBe('');
    const form = root.querySelector<HTMLFormElement>('form.filters')!;

    filter.value = 'open';
    form.dispatchEvent(new Event('submit', { cancelable: true }));
    const open = new URL(went.at(-1)!, 'http://office.test');
    expect(open.pathname).toBe('/office/shops');
    expect([open.searchParams.get('hazards'), open.searchParams.get('status'), open.searchParams.get('community')]).toEqual([
      'open',
      'active',
      'wensan',
    ]);

    filter.value = '';
    form.dispatchEvent(new Event('submit', { cancelable: true }));
    expect(new URL(went.at(-1)!, 'http://office.test').searchParams.has('hazards')).toBe(false);
  });

  it('takes an unknown value (an old link) as no filter, and reads in English', async () => {
    setLang('en');
    const root = await shopsScreen('hazards=everything');
    expect(shopCalls().at(-1)!.get('hazards')).toBeNull();
    const filter = root.querySelector<HTMLSelectElement>('select[name=hazards]')!;
    expect(filter.value).toBe('');
    expect([...filter.options].map((o) => o.textContent)).toEqual(['All', 'With hazards not closed', 'With overdue hazards']);
    expect(filter.closest('label')!.textContent).toContain('Hazards');
  });
});

describe('the overview’s overdue hazards', () => {
  it('lead to the shops with overdue hazards, of the community shown and open today, as the figure counts them', async () => {
    const { overview } = await import('../src/office/overview');
    for (const [query, community] of [
      ['', null],
      ['community=wensan', 'wensan'],
    ] as const) {
      document.body.replaceChildren();
      const root = overview(new URLSearchParams(query), []);
      document.body.append(root);
      await vi.waitFor(() => expect(root.querySelector('[data-figure=overdue_hazards][data-value="4"]')).not.toBeNull());
      const link = root.querySelector<HTMLAnchorElement>('[data-figure=overdue_hazards] a[data-figure-link=overdue_hazards]')!;
      expect(link.textContent).toBe('逾期未整改隐患');
      expect(link.title).toBe('查看有逾期隐患的店铺');
      const to = new URL(link.getAttribute('href')!, 'http://office.test');
      expect(to.pathname).toBe('/office/shops');
      expect([to.searchParams.get('hazards'), to.searchParams.get('status'), to.searchParams.get('community')]).toEqual([
        'overdue',
        'active',
        community,
      ]);
      // The other figures are no links.
      expect(root.querySelectorAll('[data-figure] a')).toHaveLength(1);
    }
  });
});
