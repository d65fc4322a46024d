// @vitest-environment happy-dom
// A working group (专班整治) carried into a later month: the ranking screen's black row says it is still in the shop
// since it started (recorded in an earlier month), it is not 待跟进 for it, and 记录跟进 offers to end it with its start
// and members as recorded; a shop without one in place is not offered an end. The e-file says it is in the shop. A shop
// that left the black list with its group still there is in the working groups' table, offered only the group's end;
// one flagged for a group while off the black list says which list it is on (or 未上榜) and is offered 记录专班.
import { beforeEach, describe, expect, it, vi } from 'vitest';

const sent: { method: string; path: string; body: unknown }[] = [];

const carried = {
  action: 'working_group',
  status: 'active',
  started: '2026-10-12',
  members: '安监所、消防所',
  month: '2026-10',
  carried: true,
  recorded_by: 'office:zhang',
  recorded_at: '2026-10-12T09:00:00+08:00',
};

function page(url: URL): Record<string, unknown> {
  const list = url.searchParams.get('list');
  const black = [
    {
      rank: 3,
      shop: 'S0003',
      name: '面馆3',
      points: 60,
      open_hazards: 2,
      list: 'black',
      working_group: true,
      followup: { talk: null, inspection: null, working_group: carried, actions: [] },
      outstanding: ['talk', 'inspection'],
    },
    {
      rank: 2,
      shop: 'S0002',
      name: '面馆2',
      points: 70,
      open_hazards: 1,
      list: 'black',
      working_group: true,
      followup: null,
      outstanding: ['talk', 'inspection', 'working_group'],
    },
  ];
  // Off the black list with a working group still there: in the shop (S0009), ended this month (S0010).
  const offList = [
    { rank: 1, shop: 'S0009', name: '面馆9', points: 101, open_hazards: 0, list: null, working_group: false, followup: { talk: null, inspection: null, working_group: carried, actions: [] }, outstanding: [] },
    {
      rank: 4,
      shop: 'S0010',
      name: '面馆10',
      points: 98,
      open_hazards: 0,
      list: null,
      working_group: false,
      followup: { talk: null, inspection: null, working_group: { ...carried, carried: false, month: undefined, status: 'ended', ended: '2026-11-03' }, actions: [] },
      outstanding: [],
    },
    // Flagged for a working group (black in 3 of the last 6 months) though off this month's black list, none yet: on
    // neither list (S0011), on the red list (S0012). The server gives no `followup` for them.
    { rank: 5, shop: 'S0011', name: '面馆11', points: 97, open_hazards: 0, list: null, working_group: true },
    { rank: 6, shop: 'S0012', name: '面馆12', points: 96, open_hazards: 0, list: 'red', working_group: true },
  ];
  const groups = url.searchParams.get('working_group') === '1';
  const entries = groups ? [...black, ...offList] : list === 'black' ? black : list === 'red' ? [] : black;
  return {
    month: '2026-11',
    of: 2,
    total: entries.length,
    offset: 0,
    limit: 50,
    counts: { red: 0, black: 2, none: 0, working_group: 2 },
    followups: { black: 2, talked: 0, inspected: 0, inspection_planned: 0, working_group: 2, group_active: 1, group_ended: 0, outstanding: 2, off_list: 2 },
    working_group: ['S0002', 'S0003'],
    published: null,
    entries,
  };
}

vi.mock('../src/office/api', async (actual) => ({
  ...(await actual<typeof import('../src/office/api')>()),
  get: async (path: string) => {
    const url = new URL(path, 'http://office.test');
    if (url.pathname === '/api/office/rankings') return { months: [{ month: '2026-11' }] };
    if (url.pathname === '/api/office/ranking') return page(url);
    throw new Error(`unexpected ${path}`);
  },
  send: async (method: string, path: string, body: unknown) => {
    sent.push({ method, path, body });
    return {};
  },
}));
vi.mock('../src/office/people', () => ({
  staffNames: async () => new Map([['office:zhang', '张丽']]),
  personName: (names: Map<string, string>, id: string) => names.get(id) ?? id,
}));
vi.mock('../src/office/reach', async (actual) => ({
  ...(await actual<typeof import('../src/office/reach')>()),
  ownSubdistrict: () => null,
  subdistricts: async () => [],
}));

beforeEach(() => {
  sent.length = 0;
  document.body.replaceChildren();
});

describe('a working group carried from an earlier month', () => {
  it('reads as in the shop since it started, in full, with the month it was recorded in', async () => {
    const { followupParts } = await import('../src/office/ranking');
    expect(followupParts({ working_group: carried as never }, true)).toEqual([
      '未约谈',
      '专项检查未安排',
      '专班整治进驻中（自 2026-10-12 起，沿用 2026-10 的记录）',
    ]);
    // The month's own keeps its short day; an end recorded is an end.
    expect(followupParts({ working_group: { ...carried, carried: false, month: undefined } as never }, true)[2]).toBe('专班整治进驻中（10-12 起）');
  });

  it('shows on the black row, and 记录跟进 offers its end with its start and members', async () => {
    const { ranking } = await import('../src/office/ranking');
    const root = ranking(new URLSearchParams(), []);
    document.body.append(root);
    await vi.waitFor(() => expect(root.querySelectorAll('[data-ranking=black] tbody tr')).toHaveLength(2));
    const cell = root.querySelector<HTMLElement>('[data-ranking=black] [data-followup=S0003]')!;
    expect(cell.textContent).toContain('专班整治进驻中（自 2026-10-12 起，沿用 2026-10 的记录）');
    expect(cell.dataset.group).toBe('active');
    expect(cell.dataset.groupSince).toBe('2026-10');
    expect(cell.dataset.outstanding).toBe('2');
    expect(cell.title).toContain('2026-10');

    // A flagged shop without a group in place: on site first; ended is a group that came and went, given in full.
    root.querySelector<HTMLButtonElement>('[data-ranking=black] [data-followup=S0002] [data-action=followup]')!.click();
    const plain = root.querySelector<HTMLFormElement>('[data-form=followup][data-shop=S0002]')!;
    const kind = plain.querySelector<HTMLSelectElement>('select[name=action]')!;
    kind.value = 'working_group';
    kind.dispatchEvent(new Event('change'));
    expect([...plain.querySelectorAll('select[name=status] option')].map((o) => o.getAttribute('value'))).toEqual(['active', 'ended']);

    cell.querySelector<HTMLButtonElement>('[data-action=followup]')!.click();
    const f = root.querySelector<HTMLFormElement>('[data-form=followup][data-shop=S0003]')!;
    const action = f.querySelector<HTMLSelectElement>('select[name=action]')!;
    action.value = 'working_group';
    action.dispatchEvent(new Event('change'));
    const status = f.querySelector<HTMLSelectElement>('select[name=status]')!;
    expect([...status.options].map((o) => o.value)).toEqual(['ended', 'active']);
    expect(status.value).toBe('ended');
    expect(f.querySelector<HTMLInputElement>('input[name=started]')!.value).toBe('2026-10-12');
    expect(f.querySelector<HTMLInputElement>('input[name=members]')!.value).toBe('安监所、消防所');
    f.querySelector<HTMLInputElement>('input[name=ended]')!.value = '2026-11-20';
    f.dispatchEvent(new Event('submit', { cancelable: true }));
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]).toEqual({
      method: 'POST',
      path: '/api/office/rankings/2026-11/followups/S0003',
      body: { action: 'working_group', status: 'ended', started: '2026-10-12', ended: '2026-11-20', members: '安监所、消防所' },
    });

  });

  it('off the black list: 已出黑榜 with its group in the working groups’ table, and only its end to record', async () => {
    const { ranking } = await import('../src/office/ranking');
    const root = ranking(new URLSearchParams(), []);
    document.body.append(root);
    await vi.waitFor(() => expect(root.querySelectorAll('[data-ranking=working-group] tbody tr')).toHaveLength(6));
    expect(root.querySelector('[data-followups-counts]')!.textContent).toContain('；另有 2 家已出黑榜，本月仍有专班整治');
    expect(root.querySelector<HTMLElement>('[data-followups-counts]')!.dataset.offList).toBe('2');
    expect(root.querySelector('[data-ranking=black] [data-followup=S0009]')).toBeNull();

    const cell = root.querySelector<HTMLElement>('[data-ranking=working-group] [data-followup=S0009]')!;
    expect(cell.dataset.offList).toBe('true');
    expect(cell.textContent).toContain('已出黑榜 · 专班整治进驻中（自 2026-10-12 起，沿用 2026-10 的记录）');
    expect(cell.textContent).not.toContain('未约谈');
    const ended = root.querySelector<HTMLElement>('[data-ranking=working-group] [data-followup=S0010]')!;
    expect(ended.textContent).toBe('已出黑榜 · 专班整治已结束（11-03）');
    expect(ended.querySelector('[data-action=followup]')).toBeNull(); // nothing left to record

    const open = cell.querySelector<HTMLButtonElement>('[data-action=followup]')!;
    expect(open.textContent).toBe('记录专班结束');
    open.click();
    const f = root.querySelector<HTMLFormElement>('[data-form=followup][data-shop=S0009]')!;
    expect([...f.querySelectorAll('select[name=action] option')].map((o) => o.getAttribute('value'))).toEqual(['working_group']);
    expect([...f.querySelectorAll('select[name=status] option')].map((o) => o.getAttribute('value'))).toEqual(['ended']);
    f.querySelector<HTMLInputElement>('input[name=ended]')!.value = '2026-11-20';
    f.dispatchEvent(new Event('submit', { cancelable: true }));
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]).toEqual({
      method: 'POST',
      path: '/api/office/rankings/2026-11/followups/S0009',
      body: { action: 'working_group', status: 'ended', started: '2026-10-12', ended: '2026-11-20', members: '安监所、消防所' },
    });
  });

  it('flagged off the black list: its list or 未上榜, and 记录专班 opens the working-group form alone', async () => {
    const { ranking } = await import('../src/office/ranking');
    const root = ranking(new URLSearchParams(), []);
    document.body.append(root);
    await vi.waitFor(() => expect(root.querySelectorAll('[data-ranking=working-group] tbody tr')).toHaveLength(6));
    const listCell = (shop: string): string =>
      root.querySelectorAll(`[data-ranking=working-group] tr[data-shop=${shop}] td`)[4]!.textContent ?? '';
    expect(listCell('S0011')).toBe('未上榜');
    expect(listCell('S0012')).toBe('红榜');
    expect(listCell('S0009')).toBe('未上榜');
    expect(listCell('S0003')).toBe('黑榜');

    for (const shop of ['S0011', 'S0012']) {
      const cell = root.querySelector<HTMLElement>(`[data-ranking=working-group] [data-followup=${shop}]`)!;
      expect(cell.querySelector('.followup-done')!.textContent).toBe('已出黑榜 · 专班整治未组建');
      expect(cell.dataset.group).toBe('none');
      expect(cell.dataset.offList).toBe('true');
      expect(cell.querySelector('[data-action=followup]')!.textContent).toBe('记录专班');
    }
    root.querySelector<HTMLButtonElement>('[data-ranking=working-group] [data-followup=S0011] [data-action=followup]')!.click();
    const f = root.querySelector<HTMLFormElement>('[data-form=followup][data-shop=S0011]')!;
    expect([...f.querySelectorAll('select[name=action] option')].map((o) => o.getAttribute('value'))).toEqual(['working_group']);
    expect([...f.querySelectorAll('select[name=status] option')].map((o) => o.getAttribute('value'))).toEqual(['active', 'ended']);
    expect(f.querySelector('input[name=talked_to]')).toBeNull();
    f.querySelector<HTMLInputElement>('input[name=started]')!.value = '2026-11-05';
    f.querySelector<HTMLInputElement>('input[name=members]')!.value = '安监所、消防所';
    f.dispatchEvent(new Event('submit', { cancelable: true }));
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]).toEqual({
      method: 'POST',
      path: '/api/office/rankings/2026-11/followups/S0011',
      body: { action: 'working_group', status: 'active', started: '2026-11-05', members: '安监所、消防所' },
    });
  });

  it('is in the e-file’s details while it is in the shop', async () => {
    const { workingGroupDetail } = await import('../src/office/shops');
    expect(workingGroupDetail(carried as never)!.textContent).toBe('专班整治进驻中（自 2026-10-12 起，安监所、消防所；2026-10 记录）');
    expect(workingGroupDetail(null)).toBeNull();
    expect(workingGroupDetail({ ...carried, status: 'ended' } as never)).toBeNull();
  });
});
