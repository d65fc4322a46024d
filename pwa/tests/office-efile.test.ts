// @vitest-environment happy-dom
// A shop's e-file as a clerk checks it: the point ledger adds up to the score shown above it (this scoring year's
// entries under their total, earlier years folded with theirs), each entry said in the screen's language; a closed
// shop is reopened from its e-file (and offered no activation code); a button the server refuses says why.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setLang } from '../src/i18n';
import { ApiError } from '../src/session';

const sent: { method: string; path: string }[] = [];
let efile: Record<string, unknown> = {};
let refuse: ApiError | null = null;
let listed: Record<string, unknown>[] = [];

vi.mock('../src/office/api', async (actual) => ({
  ...(await actual<typeof import('../src/office/api')>()),
  get: async (path: string) => {
    if (path.endsWith('/efile')) return efile;
    if (path === '/api/office/templates') return { templates: [] };
    if (path === '/api/office/registry/communities') return { communities: [] };
    if (path.startsWith('/api/office/shops?')) return { items: listed, total: listed.length };
    throw new Error(`unexpected ${path}`);
  },
  send: async (method: string, path: string) => {
    sent.push({ method, path });
    if (refuse) throw refuse;
    return { code: '12345678', expires_at: '2026-12-09T10:00:00+08:00' };
  },
}));
vi.mock('../src/office/people', async (actual) => ({
  ...(await actual<typeof import('../src/office/people')>()),
  staffNames: async () => new Map(),
}));

const ledger = (id: string, rule: string, points: number, day: string, source: string, note = ''): Record<string, unknown> => ({
  _id: `S0003:ledger:${id}:${rule}`,
  type: 'ledger',
  shop: 'S0003',
  rule,
  points,
  day,
  source,
  note,
});

const hazard = {
  _id: 'S0003:hazard:01KWNYGPZ0NM4Y1VTE2F0QTXSN-f1',
  type: 'hazard',
  status: 'overdue',
  item: 'open_flame',
  severity: 'serious',
  found_at: '2026-07-04T14:54:36+08:00',
  deadline: '2026-07-05',
};

const entries = [
  ledger('2025', 'start', 100, '2025-01-01', '2025'),
  ledger('01JA', 'self_check', 2, '2025-11-05', 'S0003:self_check:01JA'),
  ledger('2026', 'start', 100, '2026-01-01', '2026'),
  ledger('01KWNYGPZ0NM4Y1VTE2F0QTXSN-f1', 'hazard', -10, '2026-07-04', hazard._id, 'open_flame'),
  ledger('01KWNYGPZ0NM4Y1VTE2F0QTXSN-f1.w2', 'overdue', -2, '2026-07-13', hazard._id, 'week 2 past the deadline 2026-07-05'),
  ledger('2026-W47', 'missed_week', -1, '2026-11-30', '2026-W47'),
  ledger('01KZ', 'patrol_clean', 5, '2026-11-24', 'S0003:patrol:01KZ'),
];

function shopFile(status: 'active' | 'closed'): Record<string, unknown> {
  return {
    shop: { code: 'S0003', name: '福满多车行', status, community_name: '划船社区', grid: 'huachuan-01', grid_name: '划船社区第一网格' },
    score: { points: 92, rank: 1059, of: 1500, list: null },
    timeline: [hazard, ...entries],
  };
}

async function open(): Promise<HTMLElement> {
  const { shops } = await import('../src/office/shops');
  const root = shops(new URLSearchParams(), ['S0003']);
  document.body.append(root);
  await vi.waitFor(() => expect(root.querySelector('[data-details]')).not.toBeNull());
  return root;
}

const rowsOf = (table: Element | null): string[][] =>
  [...(table?.querySelectorAll('tbody tr') ?? [])].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''));

beforeEach(() => {
  sent.length = 0;
  refuse = null;
  efile = shopFile('active');
  document.body.replaceChildren();
  vi.stubGlobal('confirm', () => true);
});

afterEach(() => {
  vi.unstubAllGlobals();
  setLang('zh-CN');
});

describe('the list on an e-file', () => {
  it('is the month\'s so far, said so: the office publishes the list once the month has ended', async () => {
    efile = { ...shopFile('active'), score: { points: 89, rank: 4, of: 5, list: 'black' } };
    const root = await open();
    // It read 黑榜, as the published list; the owner reads 本月暂列 and the public card shows none.
    expect(root.querySelector('[data-details]')!.textContent).toContain('榜单黑榜（本月暂列）');
  });
});

describe('the point ledger of an e-file', () => {
  it('adds up to the score shown: this year under its total, last year folded apart with its own', async () => {
    const root = await open();
    const score = root.querySelector('[data-details]')!.textContent ?? '';
    expect(score).toContain('92');
    const total = root.querySelector('[data-ledger-total]')!;
    expect(total.getAttribute('data-ledger-total')).toBe('92');
    expect(total.textContent).toBe('2026 年积分合计：92 分（年度基础分加减以下各项，即本年安全积分）');
    const current = root.querySelector('[data-table=ledger][data-year="2026"]');
    const rows = rowsOf(current);
    expect(rows.map((r) => r[0])).toEqual(['2026-11-30', '2026-11-24', '2026-07-13', '2026-07-04', '2026-01-01']);
    expect(rows.reduce((sum, r) => sum + Number(r[2]), 0)).toBe(92);
    const earlier = root.querySelector('details[data-ledger-year="2025"]')!;
    expect(earlier.querySelector('summary')!.textContent).toBe('2025 年积分明细（往年，合计 102 分，不计入本年积分）');
    expect(rowsOf(earlier.querySelector('[data-table=ledger]')).map((r) => r[0])).toEqual(['2025-11-05', '2025-01-01']);
  });

  it('says what each entry was for in Chinese: the item, the week overdue and its deadline, the week missed', async () => {
    const root = await open();
    const rows = rowsOf(root.querySelector('[data-table=ledger][data-year="2026"]'));
    const note = (day: string): string => rows.find((r) => r[0] === day)![3]!;
    expect(note('2026-07-13')).toBe('居住区域使用明火 · 逾期第 2 周（整改期限 2026-07-05）');
    expect(note('2026-07-04')).toBe('居住区域使用明火');
    expect(note('2026-11-30')).toBe('2026-11-16 至 2026-11-22 这一周');
    expect(root.textContent).not.toContain('past the deadline');
  });
});

describe('a closed shop in its e-file', () => {
  it('is reopened there, and offered no activation code it could not use', async () => {
    efile = shopFile('closed');
    const root = await open();
    expect(root.querySelector('[data-action=close]')).toBeNull();
    expect([...root.querySelectorAll('button')].some((b) => b.textContent === '生成店主激活码')).toBe(false);
    root.querySelector<HTMLButtonElement>('[data-action=reopen]')!.click();
    await vi.waitFor(() => expect(sent).toEqual([{ method: 'POST', path: '/api/office/shops/S0003/reopen' }]));
  });

  it('is not ranked: says so instead of the rank its score held before it closed, here and in the list', async () => {
    efile = shopFile('closed'); // its score still holds 1059 / 1500 (the sub-district pass has not run since)
    const root = await open();
    const rank = root.querySelector('[data-details] [data-rank] dd')!;
    expect(rank.textContent).toBe('已停业，不参与排名');
    expect(root.querySelector('[data-details]')!.textContent).not.toContain('1059');
    efile = shopFile('active');
    expect((await open()).querySelector('[data-details] [data-rank] dd')!.textContent).toBe('1,059 / 1,500');

    listed = [
      { code: 'S0003', name: '福满多车行', status: 'closed', points: 92, rank: 1059 },
      { code: 'S0004', name: '老王面馆', status: 'active', points: 95, rank: 12 },
    ];
    setLang('en');
    const { shops } = await import('../src/office/shops');
    const list = shops(new URLSearchParams(), []);
    document.body.append(list);
    await vi.waitFor(() => expect(list.querySelectorAll('[data-table=shops] tbody tr')).toHaveLength(2));
    const heads = [...list.querySelectorAll('[data-table=shops] thead th')].map((th) => th.textContent);
    const rankOf = (code: string): string =>
      list.querySelector(`tr[data-shop=${code}]`)!.querySelectorAll('td')[heads.indexOf('Rank')]!.textContent ?? '';
    expect([rankOf('S0003'), rankOf('S0004')]).toEqual(['Closed: not ranked', '12']);
  });

  it('says why when the server refuses a button, in the screen’s language', async () => {
    refuse = new ApiError(409, 'conflict', '本店已停业，不能发放激活码：请先恢复营业。This shop is closed: reopen it before handing out an activation code.');
    const root = await open();
    const activation = [...root.querySelectorAll('button')].find((b) => b.textContent === '生成店主激活码')!;
    activation.click();
    await vi.waitFor(() => expect(root.querySelector('[data-button-error]')).not.toBeNull());
    expect(root.querySelector('[data-button-error]')!.textContent).toBe('操作失败: 本店已停业，不能发放激活码：请先恢复营业。');
    refuse = null;
    activation.click();
    await vi.waitFor(() => expect(root.querySelector('[data-button-error]')).toBeNull());
  });
});
