// @vitest-environment happy-dom
// The black list's follow-up on the ranking screen (黑榜跟进): each black-listed row says what the office did (约谈,
// 专项检查, 专班整治), the month's figure says how many were talked to and inspected, and 记录跟进 sends one action.
import { beforeEach, describe, expect, it, vi } from 'vitest';

const sent: { method: string; path: string; body: unknown }[] = [];
let talked = false;

function page(url: URL): Record<string, unknown> {
  const list = url.searchParams.get('list');
  const group = url.searchParams.get('working_group') === '1';
  const black = [
    {
      rank: 3,
      shop: 'S0003',
      name: '面馆3',
      points: 60,
      open_hazards: 2,
      list: 'black',
      working_group: true,
      followup: talked
        ? {
            talk: { action: 'talk', on: '2026-11-05', talked_to: '店主王某', by: '安监所张丽' },
            inspection: { action: 'inspection', status: 'planned', due: '2026-11-20', by: '消防所' },
            working_group: null,
          }
        : null,
      outstanding: talked ? ['inspection', 'working_group'] : ['talk', 'inspection', 'working_group'],
    },
    { rank: 2, shop: 'S0002', name: '面馆2', points: 70, open_hazards: 1, list: 'black', followup: null, outstanding: ['talk', 'inspection'] },
  ];
  const red = [{ rank: 1, shop: 'S0001', name: '面馆1', points: 120, open_hazards: 0, list: 'red' }];
  const entries = list === 'black' ? black : list === 'red' ? red : group ? [black[0]] : [...red, ...black];
  return {
    month: '2026-11',
    of: 3,
    total: entries.length,
    offset: 0,
    limit: 50,
    counts: { red: 1, black: 2, none: 0, working_group: 1 },
    followups: {
      black: 2,
      talked: talked ? 1 : 0,
      inspected: 0,
      inspection_planned: talked ? 1 : 0,
      working_group: 1,
      group_active: 0,
      group_ended: 0,
      outstanding: 2,
    },
    working_group: ['S0003'],
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
    talked = true;
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

const settled = (root: HTMLElement): boolean => root.querySelectorAll('[aria-busy=true]').length === 0;

beforeEach(() => {
  sent.length = 0;
  talked = false;
  document.body.replaceChildren();
});

describe('the black list follow-up', () => {
  it('says what was done on each black row and in the month’s figure, and records a talk', async () => {
    const { ranking } = await import('../src/office/ranking');
    const root = ranking(new URLSearchParams(), []);
    document.body.append(root);
    await vi.waitFor(() => expect(root.querySelectorAll('[data-ranking=black] tbody tr')).toHaveLength(2));
    await vi.waitFor(() => expect(settled(root)).toBe(true));
    expect(root.querySelector('[data-followups-counts]')!.textContent).toBe(
      '黑榜 2 家：已约谈 0，已专项检查 0，专班整治 1 家（进驻中 0，已结束 0），尚有 2 家待跟进',
    );
    const cell = root.querySelector<HTMLElement>('[data-ranking=black] [data-followup=S0003]')!;
    expect(cell.textContent).toContain('未约谈 · 专项检查未安排 · 专班整治未组建');
    expect(cell.dataset.talked).toBe('false');
    // The red list has no follow-up; the working group's table has it too.
    expect(root.querySelector('[data-ranking=red] [data-followup]')).toBeNull();
    expect(root.querySelector('[data-ranking=working-group] [data-followup=S0003]')).not.toBeNull();

    // A shop not flagged for a working group is not offered one.
    root.querySelector<HTMLButtonElement>('[data-ranking=black] [data-followup=S0002] [data-action=followup]')!.click();
    const plain = root.querySelector<HTMLFormElement>('[data-form=followup][data-shop=S0002]')!;
    expect([...plain.querySelectorAll('select[name=action] option')].map((o) => o.getAttribute('value'))).toEqual(['talk', 'inspection']);

    cell.querySelector<HTMLButtonElement>('[data-action=followup]')!.click();
    const f = root.querySelector<HTMLFormElement>('[data-form=followup][data-shop=S0003]')!;
    expect(f.closest('tr')!.previousElementSibling!.getAttribute('data-shop')).toBe('S0003'); // under its row
    const action = f.querySelector<HTMLSelectElement>('select[name=action]')!;
    expect([...action.options].map((o) => o.value)).toEqual(['talk', 'inspection', 'working_group']);
    f.querySelector<HTMLInputElement>('input[name=on]')!.value = '2026-11-05';
    f.querySelector<HTMLInputElement>('input[name=talked_to]')!.value = ' 店主王某 ';
    f.querySelector<HTMLInputElement>('input[name=by]')!.value = '安监所张丽';
    f.dispatchEvent(new Event('submit', { cancelable: true }));
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]).toEqual({
      method: 'POST',
      path: '/api/office/rankings/2026-11/followups/S0003',
      body: { action: 'talk', on: '2026-11-05', talked_to: '店主王某', by: '安监所张丽' },
    });
    // The month drawn again: the row says it was done.
    await vi.waitFor(() =>
      expect(root.querySelector('[data-ranking=black] [data-followup=S0003]')?.textContent).toContain(
        '已约谈 11-05 · 专项检查待完成（11-20 前） · 专班整治未组建',
      ),
    );
    expect(root.querySelector<HTMLElement>('[data-ranking=black] [data-followup=S0003]')!.dataset.talked).toBe('true');
  });

  it('sends the day that goes with an inspection’s status, and none of the others', async () => {
    const { ranking } = await import('../src/office/ranking');
    const root = ranking(new URLSearchParams(), []);
    document.body.append(root);
    await vi.waitFor(() => expect(root.querySelector('[data-ranking=black] [data-followup=S0002]')).not.toBeNull());
    root.querySelector<HTMLButtonElement>('[data-ranking=black] [data-followup=S0002] [data-action=followup]')!.click();
    const f = root.querySelector<HTMLFormElement>('[data-form=followup][data-shop=S0002]')!;
    const action = f.querySelector<HTMLSelectElement>('select[name=action]')!;
    action.value = 'inspection';
    action.dispatchEvent(new Event('change'));
    const status = f.querySelector<HTMLSelectElement>('select[name=status]')!;
    status.value = 'planned';
    status.dispatchEvent(new Event('change'));
    f.querySelector<HTMLInputElement>('input[name=due]')!.value = '2099-12-20';
    f.querySelector<HTMLInputElement>('input[name=by]')!.value = '燃气公司';
    f.dispatchEvent(new Event('submit', { cancelable: true }));
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]!.body).toEqual({ action: 'inspection', status: 'planned', due: '2099-12-20', by: '燃气公司' });
  });

  it('describes a recorded action for the e-file, by whom and when', async () => {
    const { describeFollowUp } = await import('../src/office/ranking');
    const text = describeFollowUp(
      { action: 'working_group', month: '2026-11', status: 'ended', started: '2026-11-10', ended: '2026-11-28', members: '安监所、消防所', recorded_by: 'office:zhang', recorded_at: '2026-11-28T10:00:00+08:00' },
      new Map([['office:zhang', '张丽']]),
    );
    expect(text).toBe('专班整治 · 2026-11 · 已结束 · 2026-11-10 – 2026-11-28 · 安监所、消防所 · 张丽 记录于 2026-11-28 10:00');
  });
});
